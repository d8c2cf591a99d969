"""Issue 14, item 5: redaction does not depend on word boundaries next to Chinese text, covers Chinese mobile
numbers, Chinese resident ids (check digit), bare 10-digit phones, card expiry and CVV; JSON values and log
records are redacted too."""

from __future__ import annotations

import logging

import pytest

from assistant.privacy.log_redaction import RedactingFilter, install_log_redaction
from assistant.privacy.redaction import cn_id_ok, redact, redact_json

CN_ID = "11010519491231002X"  # valid check digit
CN_ID_BAD = "110105194912310021"  # same digits, wrong check digit


@pytest.mark.parametrize("text, secrets, kinds", [
    ("我的卡号是4111111111111111，邮箱是zhangsan@qq.com", ["4111111111111111", "zhangsan@qq.com"], {"CARD", "EMAIL"}),
    ("手机号13812345678，谢谢", ["13812345678"], {"PHONE"}),
    ("请打+86 138-1234-5678联系我", ["138-1234-5678"], {"PHONE"}),
    ("电话是8613912345678。", ["13912345678"], {"PHONE"}),
    (f"身份证号{CN_ID}，请核对", [CN_ID], {"NATIONAL_ID"}),
    ("信用卡4111111111111111有效期12/27安全码123", ["4111111111111111", "12/27", "123"], {"CARD", "EXPIRY", "CVV"}),
    ("card 4111 1111 1111 1111 12/27 123 please", ["4111", "12/27", " 123"], {"CARD", "EXPIRY", "CVV"}),
    ("card 5555555555554444, exp: 09/2029, CVC 9876", ["5555555555554444", "09/2029", "9876"],
     {"CARD", "EXPIRY", "CVV"}),
    ("call me on 4155550123 tomorrow", ["4155550123"], {"PHONE"}),
    ("我的电话4155550123", ["4155550123"], {"PHONE"}),
    ("SSN是123-45-6789", ["123-45-6789"], {"SSN"}),
    ("退款到DE89370400440532013000谢谢", ["DE89370400440532013000"], {"IBAN"}),
    ("寄到123 Main Street，谢谢", ["123 Main Street"], {"ADDRESS"}),
    ("我的地址是北京市朝阳区建国路88号3号楼501室，谢谢", ["建国路88号", "501室"], {"ADDRESS"}),
    ("卡号４１１１１１１１１１１１１１１１。", ["１１１１"], {"CARD"}),
    ("4111\u200b1111\u200b1111\u200b1111 was charged", ["1111"], {"CARD"}),
])
def test_pii_next_to_chinese_text_and_new_kinds_are_redacted(text: str, secrets: list[str], kinds: set[str]) -> None:
    result = redact(text)

    assert [s for s in secrets if s in result.text] == [], result.text
    assert kinds <= set(result.found), result.found


def test_chinese_resident_id_needs_its_check_digit() -> None:
    assert cn_id_ok(CN_ID) and cn_id_ok(CN_ID.lower())
    assert not cn_id_ok(CN_ID_BAD)
    assert "NATIONAL_ID" not in redact(f"编号{CN_ID_BAD}").found


@pytest.mark.parametrize("text", [
    "Will it arrive by 12/24?", "Order NW-100234 from 2026-11-10", "订单NW-100234什么时候到？",
    "这双鞋42码有货吗？", "价格是¥1299.99", "score 0.8123456789", "expires in 30 days", "the 2025-2026 season",
    "Do my 2474 points expire?", "2025-01-01T12:00:00+00:00",
])
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text).text == text


def test_json_values_are_redacted_and_chosen_keys_kept() -> None:
    trace = {"tool_calls": [{"name": "search_policies", "args": {"query": "退款到卡4111111111111111"}}],
             "raw_model_text": "Your SSN 123-45-6789 is noted", "ms": 12.5, "ok": True, "product_id": "4155550123"}

    out = redact_json(trace, lambda key: key == "product_id")

    assert "4111111111111111" not in str(out) and "123-45-6789" not in str(out)
    assert isinstance(out, dict) and out["ms"] == 12.5 and out["ok"] is True and out["product_id"] == "4155550123"


def test_log_records_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    log = logging.getLogger("concierge.test.redaction")

    with caplog.at_level(logging.INFO):
        log.info("turn for %s with card %s", "zhangsan@qq.com", "4111111111111111")
        try:
            raise ValueError("bad id 11010519491231002X")
        except ValueError:
            log.exception("failed for 13812345678")

    assert "zhangsan@qq.com" not in caplog.text and "4111111111111111" not in caplog.text
    assert CN_ID not in caplog.text and "13812345678" not in caplog.text
    assert "[EMAIL]" in caplog.text and "[NATIONAL_ID]" in caplog.text


def test_the_filter_redacts_a_record_made_elsewhere() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "mail %s", ("a.b@example.com",), None)

    assert RedactingFilter().filter(record) and record.getMessage() == "mail [EMAIL]"
