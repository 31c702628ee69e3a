"""workflows/conf.py declares every SWITCHYARD_* setting once; the code reads them through it."""

import re
from pathlib import Path

import pytest

from workflows import conf

ROOT = Path(__file__).resolve().parents[2]
NAME = re.compile(r"\bSWITCHYARD_([A-Z][A-Z0-9_]*)")
CONF_READ = re.compile(r"""conf\.(?:value|declared|environ_text)\(\s*["']([A-Z0-9_]+)["']""")


def names_read_in(folder: str) -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / folder).rglob("*.py"):
        if "migrations" in path.parts or path == ROOT / "workflows" / "conf.py":
            continue  # conf.py is the table itself
        text = path.read_text(encoding="utf-8")
        for pattern in (NAME, CONF_READ):
            for match in pattern.finditer(text):
                found.add((str(path.relative_to(ROOT)), match.group(1).removeprefix("SWITCHYARD_")))
    return found


@pytest.mark.parametrize("folder", ["workflows", "switchyard"])
def test_every_switchyard_name_in_the_code_is_declared(folder):
    undeclared = sorted(
        f"{where}: SWITCHYARD_{name}"
        for where, name in names_read_in(folder)
        if name not in conf.BY_NAME
    )
    assert undeclared == []


def test_settings_are_not_read_around_the_table():
    """No `settings.SWITCHYARD_X` or getattr fallbacks outside conf.py and settings.py."""
    bypass = re.compile(r"settings\.SWITCHYARD_|getattr\(\s*settings,\s*[\"']SWITCHYARD_")
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("workflows", "switchyard", "bench")
        for path in (ROOT / folder).rglob("*.py")
        if bypass.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_an_empty_environment_gives_the_declared_defaults():
    values = conf.from_environ({})
    plain = [setting for setting in conf.TABLE if not setting.computed]
    assert values == {setting.key: setting.default for setting in plain}
    assert values["SWITCHYARD_LEASE_S"] == 15.0
    assert values["SWITCHYARD_MAX_OUTPUT_BYTES"] == 16 << 20
    assert values["SWITCHYARD_HTTP_ALLOW_PRIVATE"] is False
    assert values["SWITCHYARD_ENV_ALLOW"] == []


def test_environment_text_is_parsed_to_the_declared_type():
    values = conf.from_environ(
        {
            "SWITCHYARD_LEASE_S": "5",
            "SWITCHYARD_WORKER_MAX_RUNS": "7",
            "SWITCHYARD_HTTP_ALLOW_PRIVATE": "yes",
            "SWITCHYARD_ENV_ALLOW": "HOME, PATH,",
            "SWITCHYARD_REQUEST_QUEUE": "",  # empty means unset
        }
    )
    assert values["SWITCHYARD_LEASE_S"] == 5.0
    assert values["SWITCHYARD_WORKER_MAX_RUNS"] == 7
    assert values["SWITCHYARD_HTTP_ALLOW_PRIVATE"] is True
    assert values["SWITCHYARD_ENV_ALLOW"] == ["HOME", "PATH"]
    assert values["SWITCHYARD_REQUEST_QUEUE"] == 200


def test_every_setting_has_a_meaning_and_the_computed_ones_say_how():
    for setting in conf.TABLE:
        assert setting.meaning, setting.name
        assert setting.computed or setting.default is not None, setting.name


def test_django_settings_hold_every_declared_setting():
    from django.conf import settings

    missing = [s.key for s in conf.TABLE if not hasattr(settings, s.key)]
    assert missing == []


def test_value_reads_django_settings_at_call_time(settings):
    assert conf.value("STALL_S") == settings.SWITCHYARD_STALL_S
    settings.SWITCHYARD_STALL_S = 3
    assert conf.value("STALL_S") == 3.0
    settings.SWITCHYARD_MAX_SUBWORKFLOW_DEPTH = "2"
    assert conf.value("MAX_SUBWORKFLOW_DEPTH") == 2


def test_an_undeclared_name_is_refused():
    with pytest.raises(KeyError, match="SWITCHYARD_NO_SUCH_THING is not declared"):
        conf.value("NO_SUCH_THING")


def test_readme_lists_every_setting():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = "\n".join(line for line in readme.splitlines() if line.startswith("| `"))
    unlisted = [s.key for s in conf.TABLE if f"`{s.key}`" not in rows]
    assert unlisted == []
