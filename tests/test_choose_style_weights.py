"""scripts/choose_style_weights.py: which style weight a painting gets, against the peer."""

from scripts_loader import load_script

choose = load_script("choose_style_weights").choose
PEER = {"content": 0.50, "style": 0.30}


def test_the_largest_weight_that_meets_the_peer_on_both_counts():
    rows = {5e-7: {"content": 0.45, "style": 0.29}, 1e-6: {"content": 0.49, "style": 0.20},
            2e-6: {"content": 0.55, "style": 0.10}}          # 2e-6 paints more but keeps less
    assert choose(rows, PEER) == (1e-6, True)


def test_where_none_meets_it_the_nearest_miss():
    rows = {5e-7: {"content": 0.53, "style": 0.29},          # misses content by 0.03
            1.5e-6: {"content": 0.58, "style": 0.20},        # by 0.08
            2e-7: {"content": 0.49, "style": 0.40}}          # misses style by 0.10
    assert choose(rows, PEER) == (5e-7, False)
