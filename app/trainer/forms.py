from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileRequired
from wtforms import MultipleFileField, SelectField, StringField, SubmitField
from wtforms.validators import Length, ValidationError

from app.forms import Form

EXTERNAL = 0  # the "whose call" choice for an agent without an account


class UploadForm(Form):
    """Transcript files to score as real calls, and whose calls they are.

    The same form serves the no-JS batch post and the one-file-per-request endpoint
    the progress display uses. `trainee_id` choices are the trainer's cohort trainees.
    """

    files = MultipleFileField(_l("Transcript files (JSON, transcript/1)"),
                              validators=[FileRequired(_l("Choose at least one file."))])
    trainee_id = SelectField(_l("Whose calls"), coerce=int, default=EXTERNAL)
    # No Optional(): it would stop the chain before validate_external_agent sees an empty name.
    external_agent = StringField(_l("External agent name"), validators=[Length(max=120)])
    submit = SubmitField(_l("Upload and score"))

    @classmethod
    def for_trainees(cls, trainees, **kwargs) -> "UploadForm":
        form = cls(**kwargs)
        form.trainee_id.choices = [(EXTERNAL, _l("An external agent (name below)"))] + [
            (u.id, f"{u.display_name} ({u.username})") for u in trainees]
        return form

    def validate_external_agent(self, field) -> None:
        field.data = (field.data or "").strip()
        if self.trainee_id.data == EXTERNAL and not field.data:
            raise ValidationError(_l("Name the external agent or choose a trainee."))

    def uploads(self, max_bytes: int = 0) -> list[tuple[str, bytes]]:
        """(file name, bytes) of each chosen file; empty file inputs are skipped. With
        `max_bytes`, no more than one byte past it is read of a file (enough to refuse it)."""
        out = []
        for storage in self.files.data or []:
            if getattr(storage, "filename", None):
                # Only the last path part: some browsers send the client's full path.
                name = storage.filename.replace("\\", "/").rsplit("/", 1)[-1][:200]
                out.append((name, storage.read(max_bytes + 1) if max_bytes else storage.read()))
        return out
