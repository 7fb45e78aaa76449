"""Plausible Chinese names for the demo city: streets, communities, roads, people, firms.

All invented from syllable lists (the street names of 东城区 are real, the geometry is not);
everything is drawn from a ``random.Random`` so a seed gives the same city every time.
"""

from __future__ import annotations

import random

#: The 17 streets of 东城区 (2010 merged district) by their official code (统计用区划代码,
#: GB/T 2260 + 3 digits): 110101001 东华门街道 ... 110101017 永定门外街道. A demo street takes
#: the name of its own code, so a real name never sits on another street's code.
DONGCHENG_STREET_CODES: dict[str, str] = {
    "001": "东华门街道",
    "002": "景山街道",
    "003": "交道口街道",
    "004": "安定门街道",
    "005": "北新桥街道",
    "006": "东四街道",
    "007": "朝阳门街道",
    "008": "建国门街道",
    "009": "东直门街道",
    "010": "和平里街道",
    "011": "前门街道",
    "012": "崇文门外街道",
    "013": "东花市街道",
    "014": "龙潭街道",
    "015": "体育馆路街道",
    "016": "天坛街道",
    "017": "永定门外街道",
}
DONGCHENG_STREETS = list(DONGCHENG_STREET_CODES.values())

DISTRICT_NAMES = {"110101": "东城区", "110102": "西城区", "320508": "姑苏区"}

# Place words of old Beijing (胡同, 门, 寺, 仓 ...) to compose community and road names.
PLACE_WORDS = (
    "府学 国子监 钱粮 香饵 大兴 交东 菊儿 南锣 北锣 演乐 史家 内务 礼士 竹杆 新鲜 豆瓣 炒豆 "
    "花市 东厂 灯市 金鱼 总布 苏州 北河沿 南池子 黄化门 什锦 宽街 北官厅 鼓楼 藏经馆 分司厅 "
    "清水苑 青龙 地坛 民旺 化家 安德 小黄庄 胜古 新中 东营房 前门 草厂 西兴隆 长巷 北羊市口 "
    "东晓市 幸福 法华寺 体育馆 西革新里 光明 龙潭 天坛 永外 定安 桃杨 琉璃井 海运仓 东四 "
    "朝内 南竹杆 禄米仓 赵堂子 外交部 东单 西总布 新开路 船板 建国门 崇外 新怡 东花市 "
    "广渠门 忠实里 夕照寺 左安门 安化 革新 四块玉 金台 东兴 雍和宫 柏林寺 北新仓 民安 "
    "东直门 新中街 十字坡 香河园 清水 和平里 青年湖 兴化 黄寺 安外 东河沿 果子巷 铃铛"
).split()

COMMUNITY_SUFFIXES = (
    "",
    "胡同",
    "里",
    "北里",
    "南里",
    "东里",
    "西里",
    "街",
    "巷",
    "园",
    "苑",
    "坊",
)
ROAD_SUFFIXES = ("大街", "北大街", "南大街", "路", "胡同", "巷", "条", "里")

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
)
GIVEN_CHARS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国玉兰志强文婷雪梅晓东海燕红"
    "鹏飞宇浩然子涵欣怡思远嘉怡俊杰梓萱博文雨轩一诺佳琪天佑晨曦慧敏丽华淑珍德明振华春生秋菊冬梅"
)

FIRM_WORDS = (
    "华",
    "信",
    "达",
    "源",
    "泰",
    "盛",
    "隆",
    "鑫",
    "通",
    "和",
    "瑞",
    "祥",
    "丰",
    "安",
    "康",
)
FIRM_KINDS = (
    ("企业", "{w}科技有限公司"),
    ("企业", "{w}商贸有限公司"),
    ("商铺", "{w}便利店"),
    ("商铺", "{p}{w}餐馆"),
    ("商铺", "{w}理发店"),
    ("社会组织", "{p}志愿者协会"),
    ("社会组织", "{p}社区老年协会"),
    ("党组织", "{p}党支部"),
    ("物业", "{w}物业管理有限公司"),
)


def person_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN_CHARS)
    if rng.random() < 0.7:
        given += rng.choice(GIVEN_CHARS)
    return rng.choice(SURNAMES) + given


def phone(rng: random.Random) -> str:
    prefix = rng.choice(
        (
            "130",
            "131",
            "132",
            "135",
            "136",
            "137",
            "138",
            "139",
            "150",
            "151",
            "152",
            "158",
            "159",
            "176",
            "177",
            "185",
            "186",
            "187",
            "188",
            "199",
        )
    )
    return prefix + f"{rng.randrange(10**8):08d}"


class UniqueNames:
    """Draws names that were not drawn before (numbering as a last resort)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def take(self, make) -> str:  # noqa: ANN001 - a callable returning a candidate
        for _ in range(50):
            name = make()
            if name not in self.used:
                self.used.add(name)
                return name
        base = make()
        n = 2
        while f"{base}{n}" in self.used:
            n += 1
        self.used.add(f"{base}{n}")
        return f"{base}{n}"

    def street(self) -> str:
        return self.take(lambda: self.rng.choice(PLACE_WORDS) + "街道")

    def community(self) -> str:
        return self.take(
            lambda: self.rng.choice(PLACE_WORDS) + self.rng.choice(COMMUNITY_SUFFIXES) + "社区"
        )

    def road(self) -> str:
        return self.take(lambda: self.rng.choice(PLACE_WORDS) + self.rng.choice(ROAD_SUFFIXES))


def firm(rng: random.Random, place: str) -> tuple[str, str]:
    kind, template = rng.choice(FIRM_KINDS)
    words = rng.choice(FIRM_WORDS) + rng.choice(FIRM_WORDS)
    return kind, template.format(w=words, p=place)
