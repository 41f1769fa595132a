"""The pure entry details: field declarations, values checked and folded, limits, the file-name pattern."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from service.core.entry_fields import (
    EntryRules,
    check_file_name,
    check_limits,
    decode_details,
    fold,
    parse_details,
    render_pattern,
)
from service.core.errors import RequestError

RULES = EntryRules.model_validate({
    "fields": [
        {"key": "title", "label": {"zh-CN": "作品名称", "en": "Title"}, "type": "text", "required": True,
         "max_length": 10},
        {"key": "author", "label": {"zh-CN": "作者", "en": "Author"}, "required": True},
        {"key": "phone", "label": {"zh-CN": "电话", "en": "Phone"}, "type": "phone"},
        {"key": "email", "label": {"zh-CN": "邮箱", "en": "E-mail"}, "type": "email"},
        {"key": "grade", "label": {"zh-CN": "组别", "en": "Group"}, "type": "choice", "choices": ["小学", "中学"]},
        {"key": "code", "label": {"zh-CN": "编号"}, "pattern": r"[A-Z]{2}[0-9]{3}"},
    ],
    "limits": [{"field": "author", "max_entries": 2}],
    "file_name_pattern": "{作品名称}-{作者}",
})


def test_fold_full_width_and_spaces() -> None:
    assert fold(" ＡＢＣ　１２３ ") == fold("abc123") == "abc123"
    assert fold("张 三") == fold("张三")


def test_values_checked_and_trimmed() -> None:
    got = parse_details(RULES, {"title": " 星空 ", "author": "张三", "phone": "１３８００１３８０００",
                                "email": "a@b.cn", "grade": "中学", "code": "AB123"})
    assert got == {"title": "星空", "author": "张三", "phone": "13800138000", "email": "a@b.cn", "grade": "中学",
                   "code": "AB123"}


@pytest.mark.parametrize(("data", "key"), [
    ({"author": "张三"}, "title"),                                  # required, missing
    ({"title": "  ", "author": "张三"}, "title"),                     # required, blank
    ({"title": "一二三四五六七八九十一", "author": "张三"}, "title"),      # too long
    ({"title": "星空", "author": "张三", "phone": "call me"}, "phone"),
    ({"title": "星空", "author": "张三", "email": "nobody"}, "email"),
    ({"title": "星空", "author": "张三", "grade": "大学"}, "grade"),
    ({"title": "星空", "author": "张三", "code": "ab123"}, "code"),
    ({"title": "星空", "author": "张三", "nope": "x"}, "nope"),
    ({"title": ["星空"], "author": "张三"}, "title"),
    ({"title": "星\n空", "author": "张三"}, "title"),
])
def test_bad_values_name_their_field(data: dict, key: str) -> None:
    with pytest.raises(RequestError) as e:
        parse_details(RULES, data)
    assert (e.value.status, e.value.code, e.value.extra["field"]) == (422, "invalid_details", key)
    assert e.value.message["zh-CN"].startswith("报名信息有误") and e.value.message["en"]


@pytest.mark.parametrize("raw", ["{", "[1]", "x" * 40000])
def test_bad_json(raw: str) -> None:
    with pytest.raises(RequestError) as e:
        decode_details(raw)
    assert e.value.code == "invalid_details"


def test_limit_compares_folded_values() -> None:
    earlier = [{"author": "张三"}, {"author": "李四"}]
    check_limits(RULES, {"author": "张 三"}, earlier)  # one so far: fine
    with pytest.raises(RequestError) as e:
        check_limits(RULES, {"author": "张　三"}, [*earlier, {"author": " 张三"}])
    assert (e.value.status, e.value.code, e.value.extra["field"]) == (409, "entry_limit", "author")


def test_file_name_pattern() -> None:
    d = {"title": "星空", "author": "张三"}
    check_file_name(RULES, d, "星空-张三.mp4")
    check_file_name(RULES, d, "星空－张三.MP4".replace("－", "-"))
    with pytest.raises(RequestError) as e:
        check_file_name(RULES, d, "good.mp4")
    assert e.value.code == "file_name_mismatch" and e.value.extra["expected"] == "星空-张三"
    assert render_pattern(RULES, "{序号}-{作品名称}", d, {"序号": "007"}) == "007-星空"


@pytest.mark.parametrize("bad", [
    {"fields": [{"key": "a", "label": {"zh-CN": "甲"}}, {"key": "a", "label": {"zh-CN": "乙"}}]},
    {"fields": [{"key": "a", "label": {"zh-CN": "甲"}, "type": "choice"}]},
    {"fields": [{"key": "a", "label": {"zh-CN": "甲"}, "type": "date"}]},
    {"fields": [{"key": "a", "label": {"zh-CN": "甲"}, "pattern": "("}]},
    {"fields": [{"key": "a b", "label": {"zh-CN": "甲"}}]},
    {"limits": [{"field": "nope", "max_entries": 2}]},
    {"file_name_pattern": "{作者}"},
])
def test_bad_declarations_refused(bad: dict) -> None:
    with pytest.raises(ValidationError):
        EntryRules.model_validate(bad)
