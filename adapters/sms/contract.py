"""The SMS contract: send to one or many, by template, and learn the delivery status."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from adapters.base import Adapter


class DeliveryStatus(StrEnum):
    QUEUED = "queued"  # accepted by us, not yet by the gateway
    SENT = "sent"  # accepted by the gateway
    DELIVERED = "delivered"  # the handset confirmed
    FAILED = "failed"  # rejected or undeliverable
    UNKNOWN = "unknown"  # timed out: the gateway may or may not have it


@dataclass(frozen=True)
class SmsTemplate:
    id: str
    text: str  # with {placeholders}, e.g. "【指挥中心】案件{number}已超期，请尽快处置。"


@dataclass
class SmsMessage:
    id: str  # our id; the gateway's id goes in gateway_id
    to: str  # a mainland mobile number, 11 digits
    text: str
    status: DeliveryStatus
    created_at: datetime
    gateway_id: str | None = None
    error: str = ""
    updated_at: datetime | None = None
    tags: dict[str, str] = field(default_factory=dict)


class SmsAdapter(Adapter):
    kind = "sms"

    @abstractmethod
    def templates(self) -> list[SmsTemplate]:
        """The templates this gateway accepts (many Chinese gateways only send registered ones)."""

    @abstractmethod
    def send(
        self,
        to: Sequence[str],
        template_id: str,
        params: Mapping[str, str],
        tags: Mapping[str, str] | None = None,
    ) -> list[SmsMessage]:
        """Send one templated message to each number; one record per number. A number that
        is malformed or a gateway that refuses gives a FAILED record, not an exception; a
        gateway that is down raises ``BackendUnavailable``."""

    @abstractmethod
    def status(self, message_ids: Sequence[str]) -> list[SmsMessage]:
        """The current delivery status of messages sent earlier."""
