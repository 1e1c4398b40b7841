"""Build the multilingual set of short texts that language identification is measured on.

Usage::

    pip download --no-deps -d /tmp/django django==5.2.20
    python tools/langid_set.py /tmp/django/Django-5.2.20-py3-none-any.whl \\
        > tests/unit/data/langid_posts.tsv

Writes ``language<TAB>source<TAB>text`` lines:

* **django**: short sentences of Django's own translations (``django/**/locale/<lang>/LC_MESSAGES/
  django.po``; Django is BSD-3-Clause, its translations are contributed under the same licence):
  for each of the twelve Latin-script languages of issue 14 (Finnish, German, Spanish, French,
  Portuguese, Italian, Dutch, Swedish, Polish, Turkish, Indonesian, Czech) :data:`PER_LANGUAGE`
  translated messages of at least four words, chosen by a fixed seed, and as many English source
  messages (``msgid``). Placeholders (``%(name)s``, ``{0}``), markup and messages that name code
  (``.allow_empty``, ``True``) are left out: they are not how people write;
* **agora**: 60 social-style posts written for Agora (five per language) and 20 English ones, at
  the end of this file.

The English tweets the README also measures on (the TweetEval validation texts) stay in
``../shared/fixtures``; they are never copied here.
"""

from __future__ import annotations

import ast
import random
import re
import sys
import zipfile
from pathlib import Path

#: The twelve languages of issue 14, as Django names their folders.
LANGUAGES = ("fi", "de", "es", "fr", "pt", "it", "nl", "sv", "pl", "tr", "id", "cs")
PER_LANGUAGE = 40
SEED = 14

_PLACEHOLDER_RE = re.compile(r"%\([^)]*\)[sdifr]|%[sdif]|\{[^}]*\}|<[^>]+>|&[a-z]+;")
_CODE_RE = re.compile(r"\w[._]\w|\b(?:True|False|None|GIS|URL|JSON|HTTP|CSRF)\b|\.\w")

#: Posts written for Agora: five a language, in the style of the wall's sources.
OWN_POSTS = {
    "fi": [
        "Uusi puhelin tuli tänään ja akku kestää koko päivän, tosi tyytyväinen!",
        "Miksi sovellus kaatuu joka kerta kun yritän avata kameran?",
        "Kiitos nopeasta avusta asiakaspalvelussa, ongelma ratkesi heti",
        "Onko kukaan muu huomannut että päivitys hidasti kaikkea?",
        "Ihan ok laite mutta hinta on liian kova tällaisesta",
    ],
    "de": [
        "Das neue Handy ist endlich angekommen und der Akku hält ewig!",
        "Warum stürzt die App jedes Mal ab, wenn ich die Kamera öffne?",
        "Danke für die schnelle Hilfe vom Kundenservice, alles wieder gut",
        "Hat sonst noch jemand bemerkt, dass das Update alles langsamer macht?",
        "Ganz nett, aber für den Preis hätte ich mehr erwartet",
    ],
    "es": [
        "Por fin llegó el móvil nuevo y la batería dura todo el día",
        "¿Por qué se cierra la aplicación cada vez que abro la cámara?",
        "Gracias por la ayuda tan rápida del servicio de atención al cliente",
        "¿Alguien más ha notado que la actualización lo hace todo más lento?",
        "Está bien, pero por ese precio esperaba bastante más",
    ],
    "fr": [
        "Le nouveau téléphone est enfin arrivé et la batterie tient toute la journée",
        "Pourquoi l'appli plante à chaque fois que j'ouvre l'appareil photo ?",
        "Merci au service client pour l'aide rapide, tout fonctionne de nouveau",
        "Quelqu'un d'autre trouve que la mise à jour a tout ralenti ?",
        "Pas mal, mais pour ce prix j'attendais beaucoup mieux",
    ],
    "pt": [
        "O telemóvel novo chegou finalmente e a bateria dura o dia todo",
        "Porque é que a aplicação fecha sempre que abro a câmara?",
        "Obrigado pela ajuda rápida do apoio ao cliente, já está tudo resolvido",
        "Mais alguém reparou que a atualização deixou tudo mais lento?",
        "É razoável, mas por esse preço esperava muito mais",
    ],
    "it": [
        "Finalmente è arrivato il telefono nuovo e la batteria dura tutto il giorno",
        "Perché l'app si chiude ogni volta che apro la fotocamera?",
        "Grazie al servizio clienti per l'aiuto veloce, adesso funziona tutto",
        "Qualcun altro ha notato che l'aggiornamento ha rallentato tutto?",
        "Non male, ma per quel prezzo mi aspettavo molto di più",
    ],
    "nl": [
        "Eindelijk is de nieuwe telefoon binnen en de batterij houdt het de hele dag vol",
        "Waarom crasht de app elke keer als ik de camera open?",
        "Bedankt voor de snelle hulp van de klantenservice, alles werkt weer",
        "Heeft iemand anders ook gemerkt dat de update alles trager maakt?",
        "Best aardig, maar voor die prijs had ik veel meer verwacht",
    ],
    "sv": [
        "Äntligen kom den nya telefonen och batteriet räcker hela dagen",
        "Varför kraschar appen varje gång jag öppnar kameran?",
        "Tack för den snabba hjälpen från kundtjänst, nu fungerar allt igen",
        "Har någon annan märkt att uppdateringen gjorde allt långsammare?",
        "Helt okej, men för det priset hade jag väntat mig mycket mer",
    ],
    "pl": [
        "Nowy telefon w końcu dotarł i bateria wytrzymuje cały dzień",
        "Dlaczego aplikacja zamyka się za każdym razem, gdy otwieram aparat?",
        "Dziękuję za szybką pomoc obsługi klienta, wszystko już działa",
        "Czy ktoś jeszcze zauważył, że aktualizacja wszystko spowolniła?",
        "Całkiem niezły, ale za tę cenę spodziewałem się znacznie więcej",
    ],
    "tr": [
        "Yeni telefon sonunda geldi ve pil bütün gün dayanıyor",
        "Kamerayı her açtığımda uygulama neden kapanıyor?",
        "Müşteri hizmetlerine hızlı yardım için teşekkürler, her şey düzeldi",
        "Güncellemenin her şeyi yavaşlattığını fark eden başka biri var mı?",
        "Fena değil ama bu fiyata çok daha fazlasını beklerdim",
    ],
    "id": [
        "Akhirnya ponsel baru datang dan baterainya tahan seharian",
        "Kenapa aplikasinya selalu keluar sendiri setiap kali saya buka kamera?",
        "Terima kasih atas bantuan cepat dari layanan pelanggan, semuanya sudah beres",
        "Ada yang lain merasa pembaruan ini bikin semuanya lebih lambat?",
        "Lumayan sih, tapi dengan harga segitu saya berharap lebih banyak",
    ],
    "cs": [
        "Nový telefon konečně dorazil a baterie vydrží celý den",
        "Proč aplikace spadne pokaždé, když otevřu fotoaparát?",
        "Děkuji zákaznické podpoře za rychlou pomoc, všechno zase funguje",
        "Všiml si ještě někdo, že aktualizace všechno zpomalila?",
        "Docela dobrý, ale za tu cenu jsem čekal mnohem víc",
    ],
    "en": [
        "Finally got the new phone and the battery lasts all day!",
        "Why does the app crash every time I open the camera?",
        "Thanks to customer support for the quick help, all sorted now",
        "Anyone else notice the update made everything slower?",
        "Not bad, but for that price I expected a lot more",
        "lol my cat just knocked the phone off the table again 😂",
        "Launch event starts in 10 minutes, who's watching?",
        "Worst delivery experience ever, still waiting after two weeks",
        "honestly the camera on this thing is unreal",
        "Can't believe they removed the headphone jack again smh",
        "Great keynote today, the new features look really useful",
        "my battery died at 2pm, is this normal??",
        "Just switched from my old phone and loving it so far",
        "The store was packed this morning, waited an hour in line",
        "Does anyone know if the case from last year still fits?",
        "Shoutout to the team for fixing the bug so fast 🙌",
        "ugh the screen cracked on day one",
        "New update is out, changelog below",
        "Is it worth upgrading or should I wait for the next one?",
        "Happy with my purchase, would recommend to a friend",
    ],
}


def parse_po(text: str) -> list[tuple[str, str]]:
    """The (msgid, msgstr) pairs of a ``.po`` file: not fuzzy, singular forms only."""
    entries: list[tuple[str, str]] = []
    current: dict[str, str] = {}
    key: str | None = None
    fuzzy = False

    def flush() -> None:
        if current.get("msgid") and current.get("msgstr") and not fuzzy:
            entries.append((current["msgid"], current["msgstr"]))

    for raw in [*text.splitlines(), ""]:
        line = raw.strip()
        if not line:
            flush()
            current, key, fuzzy = {}, None, False
            continue
        if line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
            continue
        if line.startswith("#"):
            continue
        match = re.match(
            r'(msgid|msgstr|msgstr\[0\]|msgid_plural|msgstr\[\d+\]|msgctxt)\s+(".*")$', line
        )
        if match:
            name = match.group(1)
            key = "msgstr" if name == "msgstr[0]" else name
            if key not in ("msgid", "msgstr", "msgctxt"):
                key = None
                continue
            current[key] = ast.literal_eval(match.group(2))
        elif line.startswith('"') and key is not None:
            current[key] += ast.literal_eval(line)
    return entries


def clean(message: str) -> str | None:
    """A message as a short post, or ``None`` when it is too short or names code."""
    if _CODE_RE.search(message):
        return None
    text = " ".join(_PLACEHOLDER_RE.sub(" ", message).split())
    return text if len(text.split()) >= 4 else None


def build(wheel: Path) -> list[tuple[str, str, str]]:
    """(language, source, text) rows from a Django wheel, then the posts written here."""
    translated: dict[str, set[str]] = {lang: set() for lang in LANGUAGES}
    english: set[str] = set()
    with zipfile.ZipFile(wheel) as archive:
        for name in sorted(archive.namelist()):
            match = re.search(r"/locale/([^/]+)/LC_MESSAGES/django\.po$", name)
            if not match or match.group(1) not in translated:
                continue
            for msgid, msgstr in parse_po(archive.read(name).decode("utf-8")):
                source = clean(msgid)
                text = clean(msgstr)
                if source is not None:
                    english.add(source)
                if text is not None and text != source:
                    translated[match.group(1)].add(text)
    rng = random.Random(SEED)
    rows: list[tuple[str, str, str]] = []
    for lang in LANGUAGES:
        chosen = sorted(translated[lang])
        rng.shuffle(chosen)
        rows += [(lang, "django", t) for t in chosen[:PER_LANGUAGE]]
    chosen = sorted(english)
    rng.shuffle(chosen)
    rows += [("en", "django", t) for t in chosen[: PER_LANGUAGE * 3]]
    rows += [(lang, "agora", t) for lang, posts in OWN_POSTS.items() for t in posts]
    return rows


def main(argv: list[str]) -> int:
    """Print the set for the Django wheel named on the command line."""
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    for lang, source, text in build(Path(argv[0])):
        print(f"{lang}\t{source}\t{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
