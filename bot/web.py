"""The network's public pages, and the operator's health and metrics, in the bot's process.

An aiohttp server, started by ``serve`` when ``FILIERE_WEB_PORT`` is set (127.0.0.1 by
default, behind a reverse proxy: see the README):

* ``/verifier/<code>``: whether an erasure certificate is genuine (the address its QR code
  carries), in French or English after the browser's ``Accept-Language``; lookups are limited
  per client address (:class:`TokenBuckets`), so codes cannot be tried one after the other;
* ``/lieux``: the open places by intercommunality, their hours and whether they are open now,
  and ``/lieux.csv``, the same in the national schema of mediation places;
* ``/chiffres``: the last twelve months as the coordinators read them (small counts masked),
  the chart (``/chiffres.png``) and the funders' table (``/chiffres.csv``);
* ``/healthz`` (JSON; 503 while something is wrong) and ``/metrics`` (Prometheus).

Pages are rendered on the server by Jinja2 templates (``bot/templates``), HTML escaped by
default, no script, one small style sheet; texts are message ids rendered by the same
:class:`~bot.i18n.Renderer` and catalogs as the chat.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import math
import socket
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from aiohttp import web

from bot.app import App
from bot.health import Status
from bot.settings import LANGUAGES, WebSettings
from flows import mednum
from flows.messages import Attachment
from flows.report import MoneyFigures
from flows.text import Day, Msg, When, _, _n
from handlers import public
from handlers.certificates import NETWORK
from handlers.reports import (
    chart_png,
    factors_text,
    funders_csv,
    load_money_report,
    load_report,
)

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "templates"
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}
"""Each language in its own words (the language switch)."""

LOOKUPS_BURST = 10
LOOKUPS_PER_MINUTE = 6.0
"""Certificate lookups per client address: ten at once, then one every ten seconds. Someone
checking the certificates of a delivery never waits; trying codes at that pace would take
millions of years (31 symbols, eight places)."""
CLIENTS_KEPT = 10_000
"""Client addresses remembered for the rate limit (the least recently seen are forgotten)."""
FIGURES_FRESH = timedelta(minutes=1)
"""The figures are read again at most this often (a year of events is read on a thread)."""

CSV = "text/csv; charset=utf-8"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a certificate's code is in its address
}


# --- Texts of the pages ----------------------------------------------------------------------

CHROME: dict[str, Msg] = {
    "network": NETWORK,
    "skip": _("Aller au contenu"),
    "nav": _("Pages du réseau"),
    "home": _("Accueil"),
    "places": _("Les lieux"),
    "figures": _("Les chiffres"),
    "verify": _("Vérifier un certificat"),
    "languages": _("Langue :"),
    "footer": _("Ces pages ne déposent aucun cookie et ne tiennent aucun journal des visites."),
}

HOME_TITLE = _("Réemploi solidaire du numérique dans les Hautes-Alpes")
HOME_INTRO = _("Le réseau collecte les ordinateurs dont les entreprises, les collectivités et "
               "les particuliers n'ont plus besoin, efface leurs données, les reconditionne et "
               "les remet à prix solidaire aux personnes orientées par un·e accompagnant·e, "
               "puis les aide à s'en servir.")
HOME_LINKS = (
    ("/lieux", CHROME["places"], _("Où donner un ordinateur, où le recevoir et apprendre à s'en "
                                   "servir, avec les horaires.")),
    ("/chiffres", CHROME["figures"], _("L'activité des douze derniers mois, par "
                                       "intercommunalité.")),
    ("/verifier", CHROME["verify"], _("Un don de matériel ? Vérifiez le certificat "
                                      "d'effacement des données que vous avez reçu.")),
)

VERIFY_TITLE = _("Vérifier un certificat d'effacement")
VERIFY_TEXTS: dict[str, Msg] = {
    "hint": _("Le code figure sur le certificat, à côté de « Code de vérification », par "
              "exemple EFF-7K3M-Q9TX. Le code QR du certificat mène directement ici."),
    "label": _("Code du certificat"),
    "button": _("Vérifier"),
    "genuine": _("Certificat authentique"),
    "genuine_intro": _("Ce certificat a bien été délivré par le réseau."),
    "code": _("Code"),
    "lot": _("Lot"),
    "issued_on": _("Délivré le"),
    "issuer": _("Délivré par"),
    "erased_by": _("Effacement réalisé par"),
    "media": _("Supports de stockage"),
    "methods": _("Méthode d'effacement"),
    "level": _("Niveau de protection"),
    "private": _("Rien de personnel n'est montré ici : ni le donateur, ni les personnes qui ont "
                 "effacé les supports, ni les numéros de série. Le certificat complet est entre "
                 "les mains du donateur."),
    "unknown": _("Aucun certificat ne porte ce code. Vérifiez-le : il figure sur le "
                 "certificat, à côté de « Code de vérification »."),
    "unknown_title": _("Certificat introuvable"),
    "malformed_title": _("Ce n'est pas un code de certificat"),
    "malformed": _("Un code de certificat s'écrit EFF- suivi de huit lettres ou chiffres, par "
                   "exemple EFF-7K3M-Q9TX."),
    "limited_title": _("Trop de vérifications"),
    "again": _("Vérifier un autre code"),
}

PLACES_TITLE = _("Les lieux du réseau")
PLACES_TEXTS: dict[str, Msg] = {
    "intro": _("Où donner un ordinateur, où le recevoir et apprendre à s'en servir. Pour "
               "recevoir un ordinateur, adressez-vous à votre accompagnant·e (travailleur "
               "social, conseiller France Services, association) : c'est lui ou elle qui fait "
               "la demande."),
    "address": _("Adresse"),
    "hours": _("Horaires"),
    "no_hours": _("horaires non renseignés"),
    "also": _("Dessert aussi"),
    "none": _("Aucun lieu n'est encore publié."),
    "elsewhere": _("Autres communes"),
    "contents": _("Intercommunalités"),
}

FIGURES_TITLE = _("L'activité du réseau")
FIGURES_TEXTS: dict[str, Msg] = {
    "masked": _("Les effectifs de 1 à 4 sont indiqués « < 5 » : si petits, ils pourraient "
                "désigner quelqu'un."),
    "network": _("Tout le réseau"),
    "areas": _("Par intercommunalité"),
    "no_area": _("Aucune activité enregistrée sur les douze derniers mois."),
    "what": _("Indicateur"),
    "value": _("12 mois"),
    "chart_alt": _("Graphique en barres, mois par mois sur douze mois, des lots collectés, des "
                   "demandes de matériel et des appareils remis ; les valeurs de 1 à 4 sont "
                   "écrites « < 5 » au lieu d'une barre. Le tableau pour les financeurs donne "
                   "les mêmes chiffres."),
    "chart_caption": _("Activité des 12 derniers mois"),
    "chart_zoom": _("ouvrez l'image pour la voir en grand"),
    "csv": _("Télécharger le tableau par mois et par intercommunalité, pour les financeurs "
             "(CSV)"),
    "factors": _("Comment le CO2e évité est estimé"),
}
NOT_FOUND_TITLE = _("Page introuvable")
NOT_FOUND = _("Cette page n'existe pas. Les pages du réseau sont listées en haut.")


# --- Who is asking, in which language ---------------------------------------------------------


def client_address(peer: str | None, forwarded_for: str | None,
                   proxies: frozenset[str]) -> str:
    """The client's address: the peer's, or, when the peer is a trusted reverse proxy, the
    last address of ``X-Forwarded-For`` that is not one of the proxies (what the proxy saw;
    earlier entries are the client's own word and could be made up)."""
    address = peer or "?"
    if forwarded_for and address in proxies:
        for hop in reversed([h.strip() for h in forwarded_for.split(",")]):
            try:
                hop = str(ipaddress.ip_address(hop))
            except ValueError:
                break
            address = hop
            if hop not in proxies:
                break
    return address


def negotiate(accept_language: str | None, default: str,
              languages: tuple[str, ...] = LANGUAGES) -> str:
    """The reader's language from ``Accept-Language`` ("en-GB,en;q=0.9,fr;q=0.8"): the
    supported one they prefer, else ``default``."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _sep, params = part.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            key, _eq, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        base = tag.strip().lower().split("-")[0]
        if base in languages and weight > 0:
            ranked.append((-weight, position, base))
    return min(ranked)[2] if ranked else default


class TokenBuckets:
    """A token bucket per client address, in memory: ``burst`` lookups at once, then
    ``per_minute``; the least recently seen clients are forgotten past ``kept``."""

    def __init__(self, burst: int = LOOKUPS_BURST, per_minute: float = LOOKUPS_PER_MINUTE,
                 *, clock: Callable[[], float] = time.monotonic, kept: int = CLIENTS_KEPT
                 ) -> None:
        self.burst = burst
        self.rate = per_minute / 60
        self.clock = clock
        self.kept = kept
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str) -> float:
        """Take one token for ``client``: 0 when granted, else the seconds until one is."""
        now = self.clock()
        tokens, then = self._buckets.pop(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * self.rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.rate
        self._buckets[client] = (tokens, now)
        while len(self._buckets) > self.kept:
            self._buckets.popitem(last=False)
        return wait


# --- The server --------------------------------------------------------------------------------


@dataclass
class _Cached:
    at: datetime
    figures: public.Figures
    charts: dict[str, bytes]
    money: MoneyFigures


class WebServer:
    """The pages, health and metrics of one running bot."""

    def __init__(self, settings: WebSettings, app: App,
                 status: Callable[[], Awaitable[Status]], *,
                 clock: Callable[[], datetime], lookups: TokenBuckets | None = None) -> None:
        self.settings = settings
        self.app = app
        self.status = status
        self.clock = clock
        self.lookups = lookups or TokenBuckets()
        self.renderer = app.renderer
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, auto_reload=False,
            undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self._css = (TEMPLATES / "style.css").read_text(encoding="utf-8")
        self.templates.filters["upfirst"] = lambda text: text[:1].upper() + text[1:]
        self._figures: _Cached | None = None
        self._reading = asyncio.Lock()
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    # --- life ------------------------------------------------------------------------------

    def application(self) -> web.Application:
        server = web.Application(middlewares=[self._headers])
        get = server.router.add_get
        get("/", self.home)
        get("/style.css", self.style)
        get("/verifier", self.verify_form)
        get("/verifier/{code}", self.verify)
        get("/lieux", self.places)
        get("/lieux.csv", self.places_csv)
        get("/chiffres", self.figures)
        get("/chiffres.png", self.figures_png)
        get("/chiffres.csv", self.figures_csv)
        get("/healthz", self.healthz)
        get("/metrics", self.metrics)
        return server

    async def start(self, sock: socket.socket | None = None) -> None:
        """Listen on the settings' address and port (or on ``sock``, already bound)."""
        self._runner = web.AppRunner(self.application(), access_log=None,
                                     handle_signals=False)
        await self._runner.setup()
        site: web.BaseSite
        if sock is not None:
            site = web.SockSite(self._runner, sock)
        else:
            site = web.TCPSite(self._runner, self.settings.listen, self.settings.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        log.info("web pages on %s:%s", self.settings.listen, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- rendering -------------------------------------------------------------------------

    @web.middleware
    async def _headers(self, request: web.Request,
                       handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                       ) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPNotFound:
            response = self._page(request, "message.html", NOT_FOUND_TITLE, status=404,
                                  text=NOT_FOUND)
        except web.HTTPException:
            raise
        except Exception:
            log.exception("web: %s failed", request.path)
            response = web.Response(status=500, text="500")
        response.headers.update(SECURITY_HEADERS)
        return response

    def _lang(self, request: web.Request) -> tuple[str, bool]:
        """The page's language, and whether the reader chose it with ``?lang=``."""
        chosen = request.query.get("lang", "")
        if chosen in LANGUAGES:
            return chosen, True
        return negotiate(request.headers.get("Accept-Language"), self.renderer.default), False

    def _page(self, request: web.Request, template: str, title: Msg, *, status: int = 200,
              **context: Any) -> web.Response:
        lang, chosen = self._lang(request)

        def t(value: Any) -> str:
            return self.renderer.text(value, lang)

        def link(path: str, lang_too: bool = False) -> str:
            return f"{path}?lang={lang}" if chosen or lang_too else path

        others = [{"code": code, "name": LANGUAGE_NAMES.get(code, code),
                   "href": f"{request.path}?lang={code}"} for code in LANGUAGES if code != lang]
        html = self.templates.get_template(template).render(
            lang=lang, lang_chosen=chosen, t=t, link=link, title=t(title), path=request.path,
            others=others,
            chrome={key: t(msg) for key, msg in CHROME.items()}, **context)
        response = web.Response(status=status, text=html, content_type="text/html",
                                charset="utf-8")
        response.headers["Content-Language"] = lang
        response.headers["Vary"] = "Accept-Language"
        return response

    def _file(self, request: web.Request, attachment: Attachment) -> web.Response:
        lang, _chosen = self._lang(request)
        response = web.Response(body=attachment.data)
        response.headers["Content-Type"] = attachment.mime
        response.headers["Content-Disposition"] = f'attachment; filename="{attachment.filename}"'
        response.headers["Content-Language"] = lang
        response.headers["Vary"] = "Accept-Language"
        return response

    # --- pages -----------------------------------------------------------------------------

    async def style(self, request: web.Request) -> web.Response:
        response = web.Response(text=self._css, content_type="text/css", charset="utf-8")
        response.headers["Cache-Control"] = "max-age=3600"
        return response

    async def home(self, request: web.Request) -> web.Response:
        return self._page(request, "home.html", HOME_TITLE, intro=HOME_INTRO, links=HOME_LINKS)

    async def verify_form(self, request: web.Request) -> web.StreamResponse:
        """The form; a code typed there goes to its own address (the one a QR code carries)."""
        typed = request.query.get("code", "").strip()
        if typed:
            code = public.certificate_code(typed) or typed[:40]
            raise web.HTTPSeeOther(self._verify_link(request, code))
        return self._page(request, "verify.html", VERIFY_TITLE, texts=VERIFY_TEXTS,
                          outcome=None, check=None, typed="")

    def _verify_link(self, request: web.Request, code: str) -> str:
        lang = request.query.get("lang", "")
        path = f"/verifier/{quote(code, safe='')}"
        return f"{path}?lang={lang}" if lang in LANGUAGES else path

    async def verify(self, request: web.Request) -> web.Response:
        """Whether a certificate is genuine; limited per client address."""
        client = client_address(request.remote, request.headers.get("X-Forwarded-For"),
                                self.settings.proxies)
        wait = self.lookups.take(client)
        typed = request.match_info["code"]
        if wait > 0:
            seconds = math.ceil(wait)
            log.info("web: certificate lookups limited for a client (%s s)", seconds)
            response = self._page(
                request, "verify.html", VERIFY_TEXTS["limited_title"], status=429,
                texts=VERIFY_TEXTS, outcome="limited", check=None, typed="",
                limited=_n("Trop de vérifications depuis votre connexion. Réessayez dans "
                           "{n} seconde.", "Trop de vérifications depuis votre connexion. "
                           "Réessayez dans {n} secondes.", seconds))
            response.headers["Retry-After"] = str(seconds)
            return response
        code = public.certificate_code(typed)
        if not code:
            return self._page(request, "verify.html", VERIFY_TEXTS["malformed_title"],
                              status=404, texts=VERIFY_TEXTS, outcome="malformed", check=None,
                              typed=typed[:40])
        async with self.app.storage.reading() as uow:
            check = await public.check_certificate(uow, code, self.app.settings.timezone)
        if check is None:
            return self._page(request, "verify.html", VERIFY_TEXTS["unknown_title"],
                              status=404, texts=VERIFY_TEXTS, outcome="unknown", check=None,
                              typed=code, searched=_("Code cherché : {code}", code=code))
        media = _n("{n} support de stockage traité : {erased} effacé(s) et vérifié(s), "
                   "{destroyed} détruit(s), {failed} retiré(s) après échec.",
                   "{n} supports de stockage traités : {erased} effacé(s) et vérifié(s), "
                   "{destroyed} détruit(s), {failed} retiré(s) après échec.", check.media,
                   erased=check.erased, destroyed=check.destroyed, failed=check.withdrawn)
        return self._page(request, "verify.html", VERIFY_TEXTS["genuine"], texts=VERIFY_TEXTS,
                          outcome="genuine", check=check, typed=code, media=media,
                          issued_on=Day(check.issued_on))

    async def places(self, request: web.Request) -> web.Response:
        now = self.clock()
        async with self.app.storage.reading() as uow:
            areas = await public.places(uow, self.app.core.territory, now,
                                        self.app.settings.timezone)
        return self._page(request, "places.html", PLACES_TITLE, texts=PLACES_TEXTS,
                          areas=areas,
                          as_of=_("Ouvert ou fermé : à l'heure de cette page, {when}.",
                                  when=When(now)),
                          csv=_("Ces lieux au format national des lieux de médiation "
                                "numérique (CSV, standard-mediation-num {version})",
                                version=mednum.VERSION))

    async def places_csv(self, request: web.Request) -> web.Response:
        async with self.app.storage.reading() as uow:
            data = await public.places_csv(uow, self.app.core.territory, self.clock(),
                                           self.app.settings.timezone)
        return self._file(request, Attachment("lieux-mednum.csv", CSV, data))

    async def _read_figures(self) -> _Cached:
        """The figures, read again when older than :data:`FIGURES_FRESH` (one read at once)."""
        async with self._reading:
            now = self.clock()
            cached = self._figures
            if cached is None or now - cached.at >= FIGURES_FRESH or now < cached.at:
                async with self.app.storage.reading() as uow:
                    report = await load_report(uow, now, self.app.settings.timezone)
                    money = await load_money_report(
                        uow, now, self.app.settings.timezone,
                        self.app.settings.money.mediation_cents_per_hour)
                figures = public.figures_of(report, self.app.core.territory)
                cached = self._figures = _Cached(now, figures, {}, money)
            return cached

    async def figures(self, request: web.Request) -> web.Response:
        cached = await self._read_figures()
        lang, _chosen = self._lang(request)
        figures = cached.figures
        return self._page(request, "figures.html", FIGURES_TITLE, texts=FIGURES_TEXTS,
                          figures=figures,
                          since=_("Les douze derniers mois, depuis le {start}.",
                                  start=Day(figures.since)),
                          factors=factors_text(), chart=f"/chiffres.png?lang={lang}",
                          csv=f"/chiffres.csv?lang={lang}")

    async def figures_png(self, request: web.Request) -> web.Response:
        cached = await self._read_figures()
        lang, _chosen = self._lang(request)
        png = cached.charts.get(lang)
        if png is None:
            png = cached.charts[lang] = await asyncio.to_thread(
                chart_png, cached.figures.report, self.renderer.translator(lang), lang)
        response = web.Response(body=png, content_type="image/png")
        response.headers["Content-Language"] = lang
        return response

    async def figures_csv(self, request: web.Request) -> web.Response:
        cached = await self._read_figures()
        lang, _chosen = self._lang(request)
        data = funders_csv(cached.figures.report, self.renderer.translator(lang),
                           self.app.core.territory, cached.money)
        return self._file(request, Attachment("activite-reseau.csv", CSV, data))

    # --- for the operator --------------------------------------------------------------------

    async def healthz(self, request: web.Request) -> web.Response:
        status = await self.status()
        return web.Response(status=200 if status.ok else 503,
                            text=json.dumps(status.as_json(), indent=2),
                            content_type="application/json")

    async def metrics(self, request: web.Request) -> web.Response:
        from bot.metrics import CONTENT_TYPE

        metrics = self.app.metrics
        if metrics is None:
            raise web.HTTPNotFound()
        status = await self.status()
        response = web.Response(body=metrics.exposition(status))
        response.headers["Content-Type"] = CONTENT_TYPE
        return response
