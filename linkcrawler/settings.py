"""Scrapy settings of linkcrawler, and the defaults of our own LINKCRAWLER_* settings.

This is the one module holding defaults: the CLI turns its options into overrides of these
names, and `scrapy crawl` from the repository reads this module through scrapy.cfg.
"""

from __future__ import annotations

from linkcrawler import __version__

# --- our own settings (LINKCRAWLER_*) -------------------------------------------------------

LINKCRAWLER_CONTACT_URL = "https://github.com/linkcrawler/linkcrawler"
# Minimum gap between two requests to one site slot (registrable domain), in seconds.
LINKCRAWLER_DELAY = 1.0
# A robots.txt Crawl-delay above this is not honoured by waiting: the site is skipped (blocked).
LINKCRAWLER_MAX_CRAWL_DELAY = 30.0
# Retry-After values above this are not waited out: the host is given up for the run.
LINKCRAWLER_MAX_RETRY_AFTER = 120.0
# Attempts per request (first try included) for 429/5xx/timeouts/connection errors.
LINKCRAWLER_MAX_ATTEMPTS = 5
# Backoff after a failure: base * 2**(failures-1), capped.
LINKCRAWLER_BACKOFF_BASE = 1.0
LINKCRAWLER_BACKOFF_MAX = 60.0
# The gap to a site is at least this many times its smoothed response time: a site that
# slows down is busy, so we leave it more room (it is then busy at most 1/factor of the time).
LINKCRAWLER_LATENCY_FACTOR = 2.0
# Consecutive failed attempts after which a host is abandoned for the run (never hammered).
LINKCRAWLER_HOST_MAX_FAILURES = 10
# Pages larger than this (decompressed) end as too_large rather than being parsed.
LINKCRAWLER_MAX_PAGE_BYTES = 5 * 1024 * 1024
# robots.txt: RFC 9309 asks crawlers to parse at least 500 KiB; we read 512 KiB.
LINKCRAWLER_ROBOTS_MAX_BYTES = 512 * 1024
LINKCRAWLER_ROBOTS_MAX_REDIRECTS = 5
# Parsed robots.txt files kept at once (least recently used dropped). One takes 1.5 KB to
# 100 KB in memory (a 4 KB file parses to ~95 KB), and a million backlinks can span hundreds
# of thousands of origins; a dropped origin's robots.txt is fetched again, paced like any
# request, when its next page comes (RFC 9309 allows caching it, not keeping it forever).
LINKCRAWLER_ROBOTS_CACHE_ORIGINS = 10_000
# HTTP redirects plus meta refreshes followed for one fetch before too_many_redirects.
LINKCRAWLER_MAX_REDIRECTS = 10
# Refuse loopback/private/link-local/CGNAT/unique-local destinations unless allowed.
LINKCRAWLER_ALLOW_PRIVATE = False
# Single "ADDR:PORT" endpoints exempt from that refusal (tests, the bundled demo), so one known
# local server can be crawled without opening every local address.
LINKCRAWLER_ALLOWED_ENDPOINTS: list[str] = []
# The product token robots.txt rules are matched against; it stays fixed when --user-agent
# changes, because site owners write their rules for this name.
LINKCRAWLER_ROBOTS_AGENT = "linkcrawler"
# --resolve HOST:PORT:ADDR entries, like curl (list of strings).
LINKCRAWLER_RESOLVE: list[str] = []
# Requests held by the scheduler before the spider stops reading more from the database.
LINKCRAWLER_START_BUFFER = 2000
LINKCRAWLER_DB = None
LINKCRAWLER_RUN_ID = None
# Rows written per transaction by the storage pipeline.
LINKCRAWLER_BATCH_SIZE = 500
LINKCRAWLER_BATCH_SECONDS = 2.0

# Distinct link targets checked per referring page (best links first); the rest are reported
# without a target check so one page full of links cannot flood the user's own site.
LINKCRAWLER_MAX_TARGET_CHECKS_PER_PAGE = 10
# Link targets whose check is remembered for the rest of the run (least recently used
# dropped): each is checked once while it is remembered, and a run with a million distinct
# targets does not keep a million checks in memory (about 0.5 KB each).
LINKCRAWLER_TARGET_CACHE = 100_000
# A <meta http-equiv=refresh> with at most this delay is followed as a redirect hop
# (longer ones are page reloads, not redirects).
LINKCRAWLER_META_REFRESH_MAX_DELAY = 10.0
# A backlink that looks lost is fetched once more after this pause before it is recorded lost.
LINKCRAWLER_RECHECK_DELAY = 5.0
# Which lost-looking backlinks get that second look (enums.RecheckPolicy). "live": those whose
# latest conclusive result was live, the only ones a false "lost" alarm can come from; fetching
# pages already known lost (or never yet seen) again every night doubles their requests to the
# sites for no alarm. "all" also re-checks new and already-lost backlinks; "none" never.
LINKCRAWLER_RECHECK = "live"
# How long the result writer keeps retrying a database that is down before the run aborts.
LINKCRAWLER_DB_OUTAGE_SECONDS = 60.0
# Progress on stderr: a live bar on a terminal, a plain line this often otherwise.
LINKCRAWLER_PROGRESS = True
LINKCRAWLER_PROGRESS_INTERVAL = 10.0
LINKCRAWLER_PROGRESS_TOTAL = 0

# Worker processes that parse pages (lxml + the position classifier are CPU-bound); None means
# one per spare core. 0 parses in the crawl process itself.
LINKCRAWLER_PARSE_WORKERS = None
# Pages a parse worker may have in hand before the crawl process parses the next one itself.
# Deep enough that a worker never idles while the crawl process is busy parsing (with 2, on 2
# cores, the crawl process parsed 2 pages in 5 and the worker sat idle half the time). 64 made
# no difference to the wall time of a 10,000-page run (3 runs each, alternating: 11.6-11.9 s
# against 11.7-12.0 s; the crawl process parsed 4-7% of the pages against 4-6%) and held more
# pages in memory (+10 MiB).
LINKCRAWLER_PARSE_BACKLOG = 16
# Freeze the heap that exists when the crawl starts out of the garbage collector's reach
# (linkcrawler.collector): full collections otherwise re-walk it, for nothing, all run long.
LINKCRAWLER_GC_FREEZE = True
# Allocations between young collections (stock: 700). Each response makes thousands of
# short-lived objects; a larger nursery finds them in fewer passes (GC time in a 10,000-page
# run: 0.61 s at 700, 0.32 s at 5,000, 0.18 s at 20,000; peak RSS unchanged).
LINKCRAWLER_GC_YOUNG_THRESHOLD = 10_000

# --- Scrapy settings ------------------------------------------------------------------------

BOT_NAME = "linkcrawler"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# Site owners must be able to tell who we are and how to reach us.
USER_AGENT = f"linkcrawler/{__version__} (+{LINKCRAWLER_CONTACT_URL})"

# Both listen on a port: the telnet console gives a Python shell, and the 2.19 remote-control
# server runs code sent to it. A crawler has no business exposing either.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

# Stock robots handling reads a failing robots.txt as allow-all; linkcrawler.robots replaces it.
ROBOTSTXT_OBEY = False
# Redirects are followed by our own middleware, which records every hop and detects loops
# (stock Scrapy drops a looping request without calling anything).
REDIRECT_ENABLED = False
METAREFRESH_ENABLED = False
# Retries are ours too: stock retries ignore Retry-After and come back at once.
RETRY_ENABLED = False
# The spider classifies every status itself (404 is a finding, not an error to filter).
HTTPERROR_ALLOW_ALL = True
COOKIES_ENABLED = False

# Certificates are verified: a verifier that accepts any certificate can be fooled.
DOWNLOAD_VERIFY_CERTIFICATES = True
DOWNLOAD_TIMEOUT = 30
# Stock default is 1 GiB; a referring page is never that large and bombs must not cost memory.
DOWNLOAD_MAXSIZE = LINKCRAWLER_MAX_PAGE_BYTES
DOWNLOAD_WARNSIZE = 0

# Global parallelism across sites; per-site parallelism is one request (see the scheduler).
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 1
# Pacing is done per registrable domain by our scheduler; the downloader must not add its own
# (randomised) delay on top, or the gaps would not be what the user asked for.
DOWNLOAD_DELAY = 0
DOWNLOAD_DELAY_JITTER = 0
AUTOTHROTTLE_ENABLED = False
# One FIFO per registrable domain, one request in flight each, handed out only when the site's
# gap has passed: the downloader never holds a waiting request, so other sites keep running.
SCHEDULER = "linkcrawler.scheduler.PoliteScheduler"
# Applies --resolve and refuses loopback/private addresses after DNS, on every connection
# (every redirect hop included), which a URL check alone cannot do.
TWISTED_DNS_RESOLVER = "linkcrawler.resolver.GuardedResolver"

# Plain-function callbacks return lists; the per-response generator check is wasted work.
WARN_ON_GENERATOR_RETURN_VALUE = False
# Scrapy starts this many tasks for every callback's output, however short; ours is one result
# per backlink on the page, stored by a pipeline that only appends to a batch. The stock 100
# cost 7% of the crawl's CPU in task creation alone (py-spy, bench/verify.py).
CONCURRENT_ITEMS = 1

# Stock spider middlewares that do nothing for this crawl but cost time on every item:
SPIDER_MIDDLEWARES = {
    # A verifier has no reason to tell a link's target which page linked to it.
    "scrapy.spidermiddlewares.referer.RefererMiddleware": None,
    # It drops requests for URLs over 2,083 characters without a callback: that backlink would
    # get no result at all. Long URLs are fetched like any other.
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
    # No link is followed from a page, so there is no depth to count.
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    # Guards against copying Request.meta between requests; ours builds each meta afresh.
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
}
LOG_LEVEL = "WARNING"
LOGSTATS_INTERVAL = 0

# The per-site gap counts from when the download handler really starts a request, not from
# when it entered a (possibly busy) downloader: under CPU load the difference would let the
# site see two requests closer together than the delay.
DOWNLOAD_HANDLERS = {
    "http": "linkcrawler.transport.PacedHTTPDownloadHandler",
    "https": "linkcrawler.transport.PacedHTTPDownloadHandler",
}

ITEM_PIPELINES = {"pipelines.storage.ResultStoragePipeline": 300}
DOWNLOADER_MIDDLEWARES = {
    # Stock ones that do nothing for this crawl but cost time on every request:
    # no spider here sets allowed_domains (the referring pages are the list, wherever they are);
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    # we never send credentials (a site asking for them is `blocked`, not logged into);
    "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
    # per-request byte counters nobody reads (the run's figures are in the database).
    "scrapy.downloadermiddlewares.stats.DownloaderStats": None,
    # First: refuse non-http(s) schemes and internal IP literals before anything else, robots.txt
    # fetches included, and classify the resolver's refusals as blocked_address.
    "linkcrawler.addressguard.AddressGuardMiddleware": 60,
    # An abandoned site gets no request at all, not even robots.txt; its requests end at once.
    "linkcrawler.scheduler.PacerGateMiddleware": 70,
    # RFC 9309 before any page request of an origin; the robots.txt fetch is itself scheduled.
    "linkcrawler.robots.RobotsTxtMiddleware": 100,
    # Retry-After, backoff and giving up failing sites, at the stock retry middleware's place.
    "linkcrawler.retry.PoliteRetryMiddleware": 550,
    # Inside retry, so an oversized page is classified too_large and not retried. It also
    # stops robots.txt at its parse limit and target checks at their headers (READ_LIMIT).
    "linkcrawler.sizelimit.PageSizeMiddleware": 580,
    # Our redirect handling at the stock redirect middleware's place (600): records hops,
    # ends loops with a result.
    "linkcrawler.redirects.RedirectChainMiddleware": 600,
}
# Scrapy's stock extensions less those this crawl never runs. Listed at all, each is imported to
# resolve its name, even when mapped to None: the remote-control one pulls in aiohttp, 0.1 s of
# every start, for a server that runs code sent to it (so it cannot be turned on here at all).
# Memory debugging, AutoThrottle (pacing is ours) and the per-item counters of CoreStats
# (replaced by CoreTimes) do nothing a verify run needs. Telnet stays listed, off (above).
EXTENSIONS_BASE = {
    "scrapy.extensions.logcount.LogCount": 0,
    "scrapy.extensions.telnet.TelnetConsole": 0,
    "scrapy.extensions.memusage.MemoryUsage": 0,
    "scrapy.extensions.closespider.CloseSpider": 0,
    "scrapy.extensions.feedexport.FeedExporter": 0,
    "scrapy.extensions.logstats.LogStats": 0,
    "scrapy.extensions.spiderstate.SpiderState": 0,
    "linkcrawler.corestats.CoreTimes": 0,
}
EXTENSIONS = {
    "linkcrawler.progress.ProgressExtension": 500,
    "linkcrawler.collector.GarbageCollectorTuning": 0,
}
