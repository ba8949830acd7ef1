"""The district's streets and towns (docs/measurements.md): the 13 街道 and 彭浦镇 of Jing'an."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StreetInfo:
    """A street's stable code (pinyin) and official name."""

    code: str
    name: str

    @property
    def centre_name(self) -> str:
        """The name of the street's community affairs acceptance centre."""
        return f"{self.name}社区事务受理服务中心"


STREETS: tuple[StreetInfo, ...] = (
    StreetInfo("jiangninglu", "江宁路街道"),
    StreetInfo("shimenerlu", "石门二路街道"),
    StreetInfo("nanjingxilu", "南京西路街道"),
    StreetInfo("jingansi", "静安寺街道"),
    StreetInfo("caojiadu", "曹家渡街道"),
    StreetInfo("tianmuxilu", "天目西路街道"),
    StreetInfo("beizhan", "北站街道"),
    StreetInfo("baoshanlu", "宝山路街道"),
    StreetInfo("zhijiangxilu", "芷江西路街道"),
    StreetInfo("gonghexinlu", "共和新路街道"),
    StreetInfo("daninglu", "大宁路街道"),
    StreetInfo("pengpuxincun", "彭浦新村街道"),
    StreetInfo("linfenlu", "临汾路街道"),
    StreetInfo("pengpuzhen", "彭浦镇"),
)

# 244 residents' committees plus 5 parks/office buildings host a kiosk.
COMMITTEE_COUNT = 244
EXTRA_SITES: tuple[tuple[str, str, str], ...] = (
    ("jingansi", "静安公园", "park"),
    ("daninglu", "大宁灵石公园", "park"),
    ("nanjingxilu", "南京西路商务楼宇服务站", "building"),
    ("jiangninglu", "江宁路商务楼宇服务站", "building"),
    ("tianmuxilu", "不夜城商务楼宇服务站", "building"),
)
