"""In-app notifications for every role: the list page, marking read, the nav's count."""
