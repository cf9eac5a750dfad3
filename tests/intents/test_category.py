import pytest

from bot.intents.category import repair_category


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("卫生间天花板漏水", "water_leak"),
        ("water dripping from the bathroom ceiling", "water_leak"),
        ("卧室墙上有裂缝", "crack"),
        ("crack in the living room wall", "crack"),
        ("窗户关不上", "door_window"),
        ("厨房窗户玻璃裂了", "door_window"),
        ("插座没电了", "electrical"),
        ("电表箱进水了", "electrical"),
        ("马桶堵了", "plumbing"),
        ("kitchen sink is blocked", "plumbing"),
        ("电梯坏了", "lift"),
        ("the elevator doors won't close", "lift"),
        ("空调不制冷", "heating_ac"),
        ("aircon dripping water onto the bed", "heating_ac"),
        ("厨房有蟑螂", "pests"),
        ("楼道灯坏了", "public_area"),
        ("street light near the gate is out", "public_area"),
        ("厨房煤气味很重", "other"),  # the gas company's job, not a trade's
        ("something is wrong", "other"),
    ],
)
def test_category_rules(text: str, category: str) -> None:
    assert repair_category(text) == category
