"""docs/configuration.md is what `python -m infra.settings_doc` renders from the Settings field
descriptions: a setting added, renamed or re-described without regenerating it fails here."""
from infra import settings_doc
from infra.settings import Settings


def test_the_committed_configuration_doc_is_the_rendered_one():
    assert settings_doc.OUTPUT.read_text() == settings_doc.render(), \
        "run `python -m infra.settings_doc` and commit docs/configuration.md"


def test_every_setting_is_described_and_listed_with_its_default():
    text = settings_doc.render()
    for name, field in Settings.model_fields.items():
        assert field.description, name
        assert f"| `{field.alias}` |" in text, name
    assert "| `DEALTRAIL_PORT` | `8000` |" in text
    assert "| `DEALTRAIL_METRICS_PUBLIC` | `false` |" in text
