"""Flask-WTF forms (CSRF-protected)."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from labelapp.services.schema.names import DEFAULT_SCHEMA_MODE, SCHEMA_MODE_TEXT, SCHEMA_MODES


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Keep me logged in")


class ProjectForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    labels = StringField(
        "Labels (comma-separated, in hotkey order)", validators=[DataRequired(), Length(max=2000)]
    )
    task_type = SelectField("Items are", choices=[("text", "Text"), ("image", "Images")])
    multi_label = BooleanField("Several labels per item (multi-label)")
    allow_ambiguous = BooleanField('Offer an "ambiguous / unsure" label')
    overlap_k = IntegerField(
        "Annotators per item (overlap k)", default=1, validators=[NumberRange(1, 20)]
    )
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])


class ImportForm(FlaskForm):
    file = FileField("File (CSV, TSV, JSONL or Parquet)", validators=[FileRequired()])
    text_col = StringField("Text column", default="text", validators=[Optional(), Length(max=200)])
    id_col = StringField("Id column (optional)", validators=[Optional(), Length(max=200)])
    label_col = StringField("Label column (optional)", validators=[Optional(), Length(max=200)])
    label_source = StringField("Label source name", validators=[Optional(), Length(max=80)])
    group_col = StringField("Group column (optional)", validators=[Optional(), Length(max=200)])
    schema = SelectField(
        "Against the project schema",
        default=DEFAULT_SCHEMA_MODE,
        choices=[(m, SCHEMA_MODE_TEXT[m]) for m in SCHEMA_MODES],
    )


class ImageImportForm(FlaskForm):
    file = FileField("Zip of the image folder", validators=[FileRequired()])
    folder_labels = BooleanField("Take labels from subfolder names (one subfolder per label)")
    label_source = StringField("Label source name", validators=[Optional(), Length(max=80)])
    schema = SelectField(
        "Against the project schema",
        default=DEFAULT_SCHEMA_MODE,
        choices=[(m, SCHEMA_MODE_TEXT[m]) for m in SCHEMA_MODES],
    )


class LearningForm(FlaskForm):
    """Active-learning settings of a project (admins)."""

    strategy = SelectField("Query strategy")
    batch_size = IntegerField("Batch size", validators=[NumberRange(1, 10_000)])
    retrain_every = IntegerField(
        "Retrain after this many new labels (0: only on demand)", validators=[NumberRange(0)]
    )
    lease_seconds = IntegerField("Lease (seconds)", validators=[NumberRange(10, 86_400)])
