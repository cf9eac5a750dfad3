"""What the demo contains (DESIGN.md, "demo data"): estates, staff, bound owners, tickets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from backend.vocabulary import Channel

COMPANY = {"code": "DEMO", "name": "示范物业服务有限公司", "name_en": "Demo Property Services"}
ESTATES: list[dict[str, Any]] = [
    {
        "code": "DEMO-A",
        "name": "阳光花园",
        "name_en": "Sunshine Garden",
        "timezone": "Asia/Shanghai",
        "language": "zh",
        "address": "上海市浦东新区阳光路 88 号",
        "buildings": ["A", "B", "C"],
        "entrances": 2,
        "floors": 5,
        "per_floor": 4,
    },
    {
        "code": "DEMO-B",
        "name": "翠湖苑",
        "name_en": "Lakeside Court",
        "timezone": "Asia/Singapore",
        "language": "en",
        "address": "18 Lakeside Drive, Singapore",
        "buildings": ["B", "C"],
        "entrances": 2,
        "floors": 5,
        "per_floor": 4,
    },
]


@dataclass(frozen=True)
class DemoStaff:
    username: str
    role: str
    estates: tuple[str, ...]
    display_name: str
    phone: str
    language: str


STAFF = (
    DemoStaff("admin", "admin", (), "系统管理员", "13900000000", "zh"),
    DemoStaff("manager", "manager", (), "王经理", "13900000001", "zh"),
    DemoStaff("agent.a", "agent", ("DEMO-A",), "李娜（客户大使）", "13900000002", "zh"),
    DemoStaff("supervisor.a", "supervisor", ("DEMO-A",), "陈工（维修监理）", "13900000003", "zh"),
    DemoStaff("tech.a", "technician", ("DEMO-A",), "赵师傅", "13900000004", "zh"),
    DemoStaff("tech.a2", "technician", ("DEMO-A",), "孙师傅", "13900000005", "zh"),
    DemoStaff("agent.b", "agent", ("DEMO-B",), "Sarah Lim", "+6581000001", "en"),
    DemoStaff("supervisor.b", "supervisor", ("DEMO-B",), "David Tan", "+6581000002", "en"),
    DemoStaff("tech.b", "technician", ("DEMO-B",), "Ahmad Rahman", "+6581000003", "en"),
)

# Owners bound to every channel so each can be tried at once (DESIGN.md, demo data).
BOUND_OWNERS: dict[tuple[str, str], dict[str, Any]] = {
    ("DEMO-A", "A-1-101"): {
        "name": "张伟",
        "phone": "13800138000",
        "language": "zh",
        "identities": [
            (Channel.TELEGRAM, "900001"),
            (Channel.WECHAT, "demo-openid-0001"),
            (Channel.WEBCHAT, "demo-session"),
        ],
    },
    ("DEMO-B", "B-1-101"): {
        "name": "Emily Chen",
        "phone": "+6591234567",
        "language": "en",
        "identities": [(Channel.TELEGRAM, "900002"), (Channel.WEBCHAT, "demo-session-b")],
    },
}

ZH_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾"
ZH_GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "晓东",
    "雪梅",
    "志强",
]
EN_FIRST = [
    "James",
    "Mei Ling",
    "Aisha",
    "Wei Jie",
    "Priya",
    "Daniel",
    "Siew Ling",
    "Raj",
    "Hui Min",
    "Michael",
    "Nurul",
    "Kevin",
    "Grace",
    "Arjun",
    "Jia Hui",
    "Thomas",
]
EN_LAST = [
    "Tan",
    "Lim",
    "Lee",
    "Ng",
    "Wong",
    "Goh",
    "Chua",
    "Ong",
    "Kumar",
    "Rahman",
    "Smith",
    "Teo",
    "Koh",
    "Nair",
    "Chan",
    "Ho",
]

# Statutory minimum warranty periods (建设工程质量管理条例 art. 40), in years.
WARRANTY_YEARS = {
    "waterproofing": 5,
    "plumbing": 2,
    "electrical": 2,
    "decoration": 2,
    "doors_windows": 2,
    "heating": 2,
}


@dataclass(frozen=True)
class DemoTicket:
    kind: str
    zh: str
    en: str
    category: str | None
    location: str
    path: tuple[str, ...]  # states it moves through after opening
    age: timedelta  # opened this long before the demo was loaded


_DONE = ("dispatched", "on_site", "done")
DEMO_TICKETS = (
    DemoTicket("repair", "卫生间天花板渗水，楼上漏下来的", "Bathroom ceiling leaking from upstairs",
               "water_leak", "bathroom", (), timedelta(minutes=25)),
    DemoTicket("repair", "主卧窗户关不上", "Bedroom window will not close",
               "door_window", "bedroom", ("dispatched",), timedelta(hours=3)),
    DemoTicket("repair", "厨房下水道堵了", "Kitchen sink drain blocked",
               "plumbing", "kitchen", _DONE, timedelta(hours=20)),
    DemoTicket("repair", "客厅插座打火", "Living room socket sparks",
               "electrical", "living_room", (*_DONE, "callback", "closed"), timedelta(days=6)),
    DemoTicket("complaint", "隔壁晚上八点后还在装修，噪音太大",
               "Renovation noise next door after 8 pm",
               None, "", (), timedelta(hours=1)),
    DemoTicket("complaint", "北门保安态度恶劣", "Guard at the north gate was rude",
               None, "", ("confirmed", "assessed", "investigating"), timedelta(days=2)),
    DemoTicket("enquiry", "怎么办理车位月卡？", "How do I apply for a parking permit?",
               None, "", (), timedelta(minutes=40)),
)  # fmt: skip
