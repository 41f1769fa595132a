"""Profiles are parsed with libyaml when PyYAML has it (10x faster than the Python parser):
both parsers give the same models and the same error lines."""

import pytest
import yaml

from service.core import profile_yaml
from service.core.errors import ProfileError
from service.core.profiles import ProfileStore, load_profile
from service.settings import DEFAULT_PROFILES_DIR

PARSERS = [yaml.SafeLoader] + ([yaml.CSafeLoader] if yaml.__with_libyaml__ else [])


def test_libyaml_is_used_when_present():
    assert profile_yaml._YamlLoader is (yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader)


def _all_profiles():
    store = ProfileStore(DEFAULT_PROFILES_DIR)
    return {pid: store.get(pid) for pid in store.ids()}


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml")
def test_both_parsers_give_the_same_profiles(monkeypatch):
    with_c = _all_profiles()
    monkeypatch.setattr(profile_yaml, "_YamlLoader", yaml.SafeLoader)
    with_python = _all_profiles()
    assert len(with_c) >= 9 and with_c == with_python


@pytest.mark.parametrize("loader", PARSERS, ids=lambda c: c.__name__)
def test_errors_keep_their_lines(monkeypatch, tmp_path, loader):
    monkeypatch.setattr(profile_yaml, "_YamlLoader", loader)
    bad = tmp_path / "bad-syntax.yaml"
    bad.write_text("id: bad-syntax\nversion: '1'\nkinds:\n  video: [unclosed\n", encoding="utf-8")
    with pytest.raises(ProfileError) as e:
        load_profile(bad)
    assert e.value.line == 5 and "invalid YAML" in e.value.reason
    wrong = tmp_path / "wrong-value.yaml"
    wrong.write_text("id: wrong-value\nversion: '1'\ntitle: {zh-CN: 坏, en: bad}\nkinds:\n  video:\n"
                     "    duration: {min: 5min, max: 2min}\n", encoding="utf-8")
    with pytest.raises(ProfileError) as e:
        load_profile(wrong)
    assert e.value.line == 6 and "min is greater than max" in e.value.reason
