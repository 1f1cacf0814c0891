"""genre_app/refits.py: which fused models only need refitting (the page tests show the offer itself:
tests/test_page_home.py and the Train page's)."""

from __future__ import annotations

from genre_app import refits


def test_only_a_replaced_part_makes_a_fusion_need_refitting():
    errors = {"late_fusion": f"late_fusion: its part course_cnn {refits.REFIT_REASON}",
              "course_cnn": "course_cnn: model.keras is damaged"}
    assert refits.fusions_needing_refit(errors) == {"late_fusion": errors["late_fusion"]}
    assert refits.fusions_needing_refit({}) == {}
