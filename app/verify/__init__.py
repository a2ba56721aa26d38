"""The public certificate check: no login, one code in, the certificate's facts out."""
