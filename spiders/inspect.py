"""Fetch one page through the full crawl stack (robots.txt, guard, redirects) for `inspect`."""

from __future__ import annotations

from typing import Any

import scrapy
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from linkcrawler.errors import reason_for_exception


class InspectSpider(scrapy.Spider):
    name = "inspect"

    def __init__(self, *args: Any, url: str = "", outcome: dict[str, Any] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.url = url
        self.outcome = outcome if outcome is not None else {}

    async def start(self):  # noqa: ANN201
        yield Request(self.url, callback=self.parsed, errback=self.failed, dont_filter=True,
                      meta={"lc_kind": "page"})

    def parsed(self, response: Response) -> list[Any]:
        self.outcome.update(
            status=response.status,
            url=response.url,
            body=response.body,
            content_type=response.headers.get(b"Content-Type", b"text/html").decode("latin-1"),
            x_robots_tag=[v.decode("latin-1") for v in response.headers.getlist(b"X-Robots-Tag")],
        )
        return []

    def failed(self, failure: Failure) -> list[Any]:
        reason, detail = reason_for_exception(failure.value)
        self.outcome["error"] = f"{reason.value}: {detail}"
        return []
