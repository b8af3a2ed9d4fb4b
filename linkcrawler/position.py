"""Where on the page a link sits: body, header, nav, footer, sidebar or comments.

OWNED BY THE POSITION WORK (issue 4). Interface used by linkcrawler.extraction:
`classify_positions(root, anchors)` is called once per page with the parsed lxml root and
the link elements in document order, and returns one decision per link, in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass

from linkcrawler.enums import Position


@dataclass(frozen=True, slots=True)
class PositionDecision:
    position: Position
    path: str  # element path, e.g. html/body/footer/nav/ul/li[3]/a
    signal: str  # the deciding signal, e.g. "landmark <footer>" or "link-dense block"


def classify_positions(root, anchors) -> list[PositionDecision]:  # noqa: ANN001
    raise NotImplementedError
