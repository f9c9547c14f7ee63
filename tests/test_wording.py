"""Words people read: a task's name fits the sentences it goes into, and one thing has one name."""
from __future__ import annotations

import pytest

from bot import i18n
from bot.handlers import build_router
from bot.i18n import _, use_locale

# Words the movement does not use for a thing it names otherwise (the name it uses on the right).
NOT_OUR_WORDS = {
    "เลขานุการ": "กองเลขา",
    "ผลโหวต": "ผลการลงคะแนน",
    "อปท": "อบต./เทศบาล",
    "บัตรของฉัน": "ลงคะแนน",
    "MB": "รูปใหญ่เกินไป",
}


def flow_tasks() -> list[tuple[str, str]]:
    """(flow, task id) of every flow's title and edit title, as the engine says them."""
    return [(flow.name, task) for flow in build_router().flows
            for task in (flow.title, flow.edit_title) if task]


@pytest.mark.parametrize("flow,task", flow_tasks())
def test_a_flows_task_name_fits_cancel_switch_and_resume(flow, task):
    """The engine says "ยกเลิกการ{task}", "คุณยัง{task}ไม่เสร็จ": a task named "การเพิ่มวาระ" read
    "ยกเลิกการการเพิ่มวาระ". Task names are verb phrases without การ, and never spaced oddly."""
    with use_locale("th"):
        name = _(task)
        assert not name.startswith("การ"), (flow, name)
        sentences = [_("flow.cancelled", task=name), _("flow.switch_offer", task=name),
                     _("flow.expired_offer", task=name, date="1 ธ.ค. 2569")]
    for sentence in sentences:
        assert "การการ" not in sentence and "  " not in sentence, sentence
    with use_locale("en"):
        assert _(task) and _(task) != task and not _(task)[0].isupper(), (flow, _(task))  # "Stopped {task}."


def test_the_thai_catalog_uses_one_name_per_thing():
    for message in i18n.catalog("th"):
        if not message.id:
            continue
        text = message.string
        for word, ours in NOT_OUR_WORDS.items():
            assert word not in text, f"{message.id}: say {ours!r}, not {word!r}: {text!r}"
        assert "การการ" not in text, message.id
    assert "ผลการลงคะแนน" == i18n.catalog("th").get("vote.results_chip").string
