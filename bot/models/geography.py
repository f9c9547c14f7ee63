"""Where the movement is: region → province group → province, and the strategic issues it works on."""
from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base


class Region(Base):
    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_th: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))

    groups: Mapped[list[ProvinceGroup]] = relationship(back_populates="region", order_by="ProvinceGroup.id")

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_th


class ProvinceGroup(Base):
    __tablename__ = "province_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_th: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)

    region: Mapped[Region] = relationship(back_populates="groups")
    provinces: Mapped[list[Province]] = relationship(back_populates="group", order_by="Province.name_th")

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_th


class Province(Base):
    __tablename__ = "provinces"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    name_th: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    # Short forms fit LINE's 20-character quick-reply labels.
    short_th: Mapped[str] = mapped_column(String(20))
    short_en: Mapped[str] = mapped_column(String(20))
    # Names people type ("โคราช", "BKK"), "|"-separated; used by the fuzzy matcher.
    aliases: Mapped[str] = mapped_column(String(500), default="")
    group_id: Mapped[int] = mapped_column(ForeignKey("province_groups.id"), index=True)

    group: Mapped[ProvinceGroup] = relationship(back_populates="provinces")

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_th

    def label(self, locale: str) -> str:
        return self.short_en if locale == "en" else self.short_th

    @property
    def region_id(self) -> int:
        return self.group.region_id


class StrategicIssue(Base):
    __tablename__ = "strategic_issues"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_th: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    short_th: Mapped[str] = mapped_column(String(20))
    short_en: Mapped[str] = mapped_column(String(20))
    sort_order: Mapped[int] = mapped_column(default=0)

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_th

    def label(self, locale: str) -> str:
        return self.short_en if locale == "en" else self.short_th
