#!/usr/bin/env python3
"""Generate the format samples of tests/data/formats/ for the indexer tests.

Usage:
    python3 scripts/mksamples.py [--out tests/data/formats]

Python 3 standard library only; deterministic (running it twice gives
byte-identical files).  The PDF, DOCX and ODT samples are produced with the
corpus generator scripts/mkoffice.py.  Besides the samples it writes
README.md (a table of what each file is and what an indexer must extract
from it) and expected.json (the same facts, machine-readable, for tests).

Every marker word (the words ending in "zzz") appears in exactly one sample
file, so a test can search for it.  README.md, expected.json and this script
name them all: do not index those three files together with the samples.
"""

import argparse
import importlib.util
import json
import os
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def load_mkoffice():
    spec = importlib.util.spec_from_file_location("mkoffice", os.path.join(HERE, "mkoffice.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


mk = load_mkoffice()

# Each entry of SAMPLES describes one file: its expected metadata and words.
#   expect: "indexed"  the document must be indexed with the given metadata and words
#           "error"    the file must be reported as an error and nothing indexed from it
#           "partial"  (only truncated.pdf) an error or a partial text, never a crash
#           "empty"    nothing to index; must not crash (may be reported as empty)
#   words:  words that must be found in the document (search by the word finds it)
#   absent: words present in the file that must NOT be indexed
SAMPLES = []


def sample(name, what, expect="indexed", title=None, lang=None, date=None,
           organisation=None, type=None, topics=None, authors=None,
           words=(), absent=(), notes=""):
    SAMPLES.append({
        "file": name, "what": what, "expect": expect, "title": title, "lang": lang,
        "date": date, "organisation": organisation, "type": type,
        "topics": list(topics) if topics else None,
        "authors": list(authors) if authors else None,
        "words": list(words), "absent": list(absent), "notes": notes,
    })


# ---------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------

REPORT_FR_HTML = """<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<title>Refroidissement des onduleurs SiC : retour d’essais</title>
<meta name="description" content="Comparaison de trois solutions de refroidissement pour un onduleur SiC de 250 kW.">
<meta name="keywords" content="power-electronics, electric-motors">
<meta name="author" content="Camille Roux; Antoine Lefèvre">
<meta name="date" content="2024-02-14">
<meta name="organisation" content="Pôle Mobilité Alpes-Rhône">
<meta name="type" content="report">
<script>/* analytics stub */ var scriptzzz = "ne pas indexer"; if (window.console) { console.log(scriptzzz); }</script>
<style>
/* stylezzz : feuille de style à ignorer */
body { font-family: sans-serif; max-width: 48em; margin: auto; }
nav, footer { color: #555; }
</style>
</head>
<body>
<nav><a href="#">Accueil</a> | <a href="#">Archives</a> | <a href="#">navzzz</a></nav>
<main>
<h1>Refroidissement des onduleurs SiC : retour d’essais</h1>
<p>Les onduleurs en carbure de silicium des architectures 800 V commutent plus vite et perdent
moins d’énergie que leurs équivalents à IGBT, mais la densité de puissance concentre la chaleur
sur quelques millimètres carrés de puce. Nos essais comparent trois solutions de refroidissement
sur un onduleur de traction de 250 kW.</p>
<h2>Résultats</h2>
<p>Le refroidissement double face par plaque à eau glycolée limite la température de jonction à
150 °C à pleine charge, contre 172 °C pour une semelle classique simple face. Le dissipateurzzz à
ailettes droites brasées offre le meilleur compromis entre perte de charge, masse et coût.</p>
<h2>Suite du programme</h2>
<p>Une seconde campagne mesurera l’effet des cycles thermiques sur les joints en argent fritté,
avec des profils de mission WLTP et autoroute, avant un essai d’endurance de 1 000 heures.</p>
</main>
<footer>© 2024 Pôle Mobilité Alpes-Rhône — mentions légales — footzzz</footer>
</body>
</html>
"""

sample("report-fr.html",
       "HTML page (UTF-8) with meta tags; nav, script, style and footer must be dropped",
       title="Refroidissement des onduleurs SiC : retour d’essais", lang="fr",
       date="2024-02-14", organisation="Pôle Mobilité Alpes-Rhône", type="report",
       topics=["power-electronics", "electric-motors"],
       authors=["Camille Roux", "Antoine Lefèvre"],
       words=["dissipateurzzz", "onduleurs"],
       absent=["navzzz", "scriptzzz", "stylezzz", "footzzz"])

# ---------------------------------------------------------------------------
# XML reports
# ---------------------------------------------------------------------------

REPORT_IT_XML = """<?xml version="1.0" encoding="UTF-8"?>
<report id="it-valvole-h2-2025">
  <title>Valvole e sensori per serbatoi di idrogeno a 700 bar</title>
  <authors><author>Francesca Rinaldi</author><author>Paolo Conti</author></authors>
  <organisation>Consorzio Idrogeno Emilia</organisation>
  <date>2025-01-20</date>
  <language>it</language>
  <type>report</type>
  <topics><topic>hydrogen</topic><topic>fuel-cells</topic></topics>
  <abstract>Sintesi delle prove condotte sulle valvole di intercettazione dei serbatoi di tipo IV
  per veicoli a celle a combustibile.</abstract>
  <section>
    <heading>Contesto</heading>
    <p>I serbatoi di tipo IV immagazzinano da 5 a 6 kg di idrogeno a 700 bar in un liner
    polimerico avvolto in fibra di carbonio. La valvola avvitata sul collo del serbatoio integra
    l’elettrovalvola, un sensore di temperatura e il dispositivo di sicurezza termica (TPRD).</p>
    <p>Il regolamento UN R134 definisce le prove di omologazione di questi componenti, dalla
    permeazione alla resistenza al fuoco.</p>
  </section>
  <section>
    <heading>Risultati</heading>
    <p>Su 5.000 cicli di rifornimento secondo il protocollo SAE J2601, il prototipo valvolazzz non
    ha mostrato perdite superiori al limite ammesso. La temperatura del gas è rimasta sotto 85 °C
    grazie al pre-raffreddamento a −40 °C alla stazione.</p>
  </section>
</report>
"""

sample("report-it.xml", "XML report, valid per schemas/report.xsd",
       title="Valvole e sensori per serbatoi di idrogeno a 700 bar", lang="it",
       date="2025-01-20", organisation="Consorzio Idrogeno Emilia", type="report",
       topics=["hydrogen", "fuel-cells"], authors=["Francesca Rinaldi", "Paolo Conti"],
       words=["valvolazzz", "serbatoi"],
       notes="id attribute: it-valvole-h2-2025")

INVALID_REPORT_XML = """<?xml version="1.0" encoding="UTF-8"?>
<report id="fr-invalide-2022">
  <title>Essai d’un démarreur-alternateur 48 V (échantillon invalide)</title>
  <authors><author>Lucie Perrin</author></authors>
  <organisation>Laboratoire GMP Savoie</organisation>
  <date>2022-11-30</date>
  <language>fr</language>
  <type>note</type>
  <topics><topic>hybrids</topic><topic>teleportation</topic></topics>
  <section>
    <heading>Objet</heading>
    <p>Ce rapport est bien formé mais ne respecte pas le schéma : il n’a pas de résumé et l’un de
    ses thèmes n’existe pas. Il décrit un essai de démarreur-alternateur 48 V monté sur courroie,
    capable de fournir 12 kW en assistance et de récupérer l’énergie au freinage. Le mot
    schemafailzzz ne doit être trouvé que si l’indexeur accepte les rapports invalides.</p>
    <p>Sur le banc, la machine a redémarré le moteur thermique en moins de 300 ms à 20 °C.</p>
  </section>
</report>
"""

sample("invalid-report.xml",
       "XML report, well-formed but fails report.xsd: no `<abstract>`, topic `teleportation`",
       expect="error", title="Essai d’un démarreur-alternateur 48 V (échantillon invalide)",
       lang="fr", date="2022-11-30", organisation="Laboratoire GMP Savoie", type="note",
       absent=["schemafailzzz"],
       notes="the error must name the schema problem (missing abstract, bad topic)")

MALFORMED_XML = """<?xml version="1.0" encoding="UTF-8"?>
<report id="fr-malforme">
  <title>Rapport mal formé sur les injecteurs</title>
  <authors><author>Noé Girard</author></authors>
  <organisation>Atelier Hydrogène Lyon</organisation>
  <date>2021-07-07</date>
  <language>fr</language>
  <type>brief</type>
  <topics><topic>combustion</topic></topics>
  <abstract>Injecteurs d’hydrogène & moteurs thermiques</abstract>
  <section>
    <heading>Injection directe</heading>
    <p>L’injection directe d’hydrogène à 30 bar réduit les retours de flamme <b>mais demande
    des injecteurs robustes.</p>
    <p>Sans film de carburant liquide pour les lubrifier, les aiguilles et les sièges s’usent
    vite ; les revêtements en carbone amorphe et un dosage fin de l’huile sont à l’étude.
    Le temps d’ouverture doit rester sous la milliseconde à pleine charge.</p>
    <p>Le mot malformezzz ne doit jamais être indexé : ce fichier n’est pas du XML bien formé.
  </section>
"""

sample("malformed.xml",
       "XML that is not well-formed (bare `&`, mismatched and unclosed tags, no `</report>`)",
       expect="error", absent=["malformezzz"],
       notes="parse error reported with the file name; no crash")

# ---------------------------------------------------------------------------
# Markdown and plain text
# ---------------------------------------------------------------------------

BRIEF_EN_MD = """---
title: "Thermal runaway propagation testing under UN R100"
date: 2025-04-03
lang: en
organisation: "EuroPowertrain Joint Office"
type: brief
topics: [batteries, regulation]
authors: ["Emma Clarke", "Matteo Galli"]
---

# Thermal runaway propagation testing under UN R100

Revision 3 of UN Regulation No. 100 asks manufacturers to show that a thermal runaway in
one cell does not turn into a hazard for the occupants. The pack must give a warning and
leave at least five minutes before fire or explosion reaches the cabin.

## How the test is run

The usual trigger is a nail, a heater pad or an overcharge of a single cell inside a complete
module. Thermocouples and gas sensors then follow the propagationzzz front from cell to cell.
Mica sheets, aerogel pads and venting channels are the common countermeasures.

## What we learned

On our two reference packs, ceramic-coated separators and a 2 mm aerogel barrier stopped the
event at the first neighbour cell. The warning signal came from the pressure sensor, 40 seconds
before the first temperature alarm.
"""

sample("brief-en.md", "Markdown with YAML front matter",
       title="Thermal runaway propagation testing under UN R100", lang="en",
       date="2025-04-03", organisation="EuroPowertrain Joint Office", type="brief",
       topics=["batteries", "regulation"], authors=["Emma Clarke", "Matteo Galli"],
       words=["propagationzzz", "aerogel"])

NOTES_TXT = """Notes de réunion : banc moteur hydrogène

Réunion technique du groupe combustion. Le banc moteur du laboratoire a été adapté pour
l’hydrogène : injection indirecte, allumage commandé, mélange très pauvre avec une richesse
proche de 0,4 pour limiter les oxydes d’azote.

Points relevés : le bancmoteurzzz a tourné 60 heures sans retour de flamme ; les émissions de
NOx restent sous 10 ppm à charge partielle, mais montent nettement au-delà de 70 % de la
charge. Les segments et l’huile devront être contrôlés après 200 heures, l’eau produite par la
combustion pouvant diluer le lubrifiant.

Actions : commander un capteur de pression cylindre supplémentaire, préparer l’essai
d’injection directe, partager les courbes avec les partenaires italiens avant la fin du mois.
"""

sample("notes.txt", "plain text UTF-8; first line is the title; no other metadata",
       title="Notes de réunion : banc moteur hydrogène", lang="fr",
       words=["bancmoteurzzz", "lubrifiant"],
       notes="lang must be detected from the text; date comes from the file")

# ---------------------------------------------------------------------------
# PDF, DOCX, ODT (made with scripts/mkoffice.py)
# ---------------------------------------------------------------------------

BRIEF_FR_PDF = """---
title: "Freinage récupératif sur les véhicules utilitaires légers"
date: 2023-06-20
lang: fr
organisation: "Laboratoire GMP Savoie"
type: brief
topics: [electric-motors, control-systems]
authors: ["Hélène Morel", "Julien Carrel"]
---

# Freinage récupératif sur les véhicules utilitaires légers

Sur un fourgon électrique de 3,5 t, le freinage récupératif restitue de 15 à 25 % de l’énergie
consommée en cycle urbain. La machine synchrone à aimants fonctionne alors en génératrice et
recharge la batterie de 75 kWh, dans la limite du courant que celle-ci accepte. Repère de la
première page : pageunzzz.

<!-- page -->

## Stratégie de commande

Le cœur du système est le contrôleur de freinage : il reçoit la demande du conducteur et
répartit le couple entre la machine électrique et les freins à friction. Au-delà de 0,3 g de
décélération, ou lorsque l’état de charge dépasse 95 %, la part hydraulique augmente. La
coordination avec l’ABS et l’ESP reste prioritaire. Repère de la deuxième page : pagedeuxzzz.

<!-- page -->

## Limites et perspectives

Par temps froid, la batterie accepte moins de courant et la récupération chute. Un mode
« one-pedal » bien calibré, un préconditionnement thermique et une meilleure estimation de
l’adhérence permettraient de gagner encore quelques points d’autonomie. Repère de la troisième
page : pagetroiszzz.
"""

sample("brief-fr.pdf", "PDF, 3 pages (explicit page breaks), Info dictionary + XMP metadata",
       title="Freinage récupératif sur les véhicules utilitaires légers", lang="fr",
       date="2023-06-20", organisation="Laboratoire GMP Savoie", type="brief",
       topics=["electric-motors", "control-systems"], authors=["Hélène Morel", "Julien Carrel"],
       words=["pageunzzz", "pagedeuxzzz", "pagetroiszzz", "cœur"],
       notes="pageunzzz only on page 1, pagedeuxzzz only on page 2, pagetroiszzz only on page 3")

TRUNCATED_SRC = """---
title: "NOx sensors and on-board diagnostics under Euro 7"
date: 2024-09-09
lang: en
organisation: "Bureau Franco-Italien de la Mobilité"
type: note
topics: [sensors, diagnostics, regulation]
authors: ["Oliver Hughes"]
---

# NOx sensors and on-board diagnostics under Euro 7

Euro 7 keeps the NOx limits of Euro 6 for petrol cars, extends the durability requirement to
200,000 km and ten years, and asks for on-board monitoring of emissions. Amperometric zirconia
NOx sensors placed after the SCR catalyst already deliver a signal that diagnostics can use.
Two sensors, one before and one after the catalyst, give the conversion efficiency directly.
The first-page marker of this sample is cutoffzzz.

<!-- page -->

## Ammonia cross-sensitivity

The sensor reads slipped ammonia as NOx, so the monitor must correlate urea dosing with the
signal before it flags a fault. A model of the catalyst storage helps to separate the two.
The second-page marker is middlepagezzz.

<!-- page -->

## Drift over the vehicle life

Sensor drift must be compensated by self-tests during fuel cut-off phases, when the exhaust is
pure air. The third-page marker is lastpagezzz.
"""

sample("truncated.pdf",
       "the first 60 % of the bytes of a valid 3-page PDF: the cut falls inside the Info "
       "dictionary, so the XMP stream, the xref table, the trailer and %EOF are missing",
       expect="partial",
       notes="must not crash or hang. The page objects (cutoffzzz on page 1, middlepagezzz on "
             "page 2, lastpagezzz on page 3) are complete, but poppler 22 (pdftotext, "
             "poppler-glib) cannot open the file (\"Couldn't find trailer dictionary\"): with "
             "poppler the outcome is an error and nothing is indexed; a repairing reader may "
             "index the three pages, without metadata")

BRIEF_IT_DOCX = """---
title: "Gestione termica delle batterie nei veicoli ibridi plug-in"
date: 2022-09-15
lang: it
organisation: "Polo Automotive Torino"
type: study
topics: [batteries, hybrids]
authors: ["Giulia Ferraro", "Luca Bianchi"]
---

# Gestione termica delle batterie nei veicoli ibridi plug-in

## Perché serve

Nei veicoli ibridi plug-in la batteria, di solito tra 10 e 25 kWh, lavora in condizioni più
severe che in un veicolo elettrico puro: cicli frequenti e potenze elevate rispetto alla
capacità. Mantenere le celle tra 20 e 35 °C rallenta l’invecchiamento e preserva la potenza.

## Soluzioni provate

La piastra fredda con circuito a glicole, collegata al climatizzatore tramite un chiller, è la
soluzione più diffusa. Il prototipo serpentinazzz, con canali integrati sotto i moduli, è stato
confrontato con il raffreddamento ad aria: la differenza massima di temperatura tra le celle è
scesa da 9 a 3 °C.

## Prossimi passi

Il gruppo valuterà il preriscaldamento durante la ricarica in corrente alternata secondo la
IEC 61851, per migliorare le prestazioni invernali senza pesare sull’autonomia elettrica.
"""

sample("brief-it.docx", "DOCX (Office Open XML) with core.xml / app.xml metadata",
       title="Gestione termica delle batterie nei veicoli ibridi plug-in", lang="it",
       date="2022-09-15", organisation="Polo Automotive Torino", type="study",
       topics=["batteries", "hybrids"], authors=["Giulia Ferraro", "Luca Bianchi"],
       words=["serpentinazzz", "glicole"],
       notes="organisation in docProps/app.xml `<Company>`; type in cp:category; "
             "topics in cp:keywords; lang in dc:language (it-IT)")

BRIEF_EN_ODT = """---
title: "Predictive diagnostics for 48 V belt starter-generators"
date: 2021-03-08
lang: en
organisation: "Bureau Franco-Italien de la Mobilité"
type: note
topics: [hybrids, diagnostics]
authors: ["Sarah Whitfield"]
---

# Predictive diagnostics for 48 V belt starter-generators

A 48 V belt starter-generator adds torque assist, regenerative braking and smooth engine
restarts to a combustion powertrain at a modest cost. Its weak points are the belt, the
tensioner and the cooling of the power electronics.

## Monitoring approach

Instead of adding sensors, the control unit compares the commanded torque with the torque
estimated from phase currents and crankshaft speed. A growing slip between the two pulleys
reveals belt wear long before the driver hears any noise. The test fleet logged this indicator,
nicknamed beltwearzzz, on every drive cycle.

## Results

On twelve vehicles over 40,000 km, the indicator predicted three belt replacements with at
least 2,000 km of warning and raised no false alarm. The method fits within the existing
ISO 26262 ASIL A monitoring budget.
"""

sample("brief-en.odt", "ODT (OpenDocument Text) with meta.xml metadata",
       title="Predictive diagnostics for 48 V belt starter-generators", lang="en",
       date="2021-03-08", organisation="Bureau Franco-Italien de la Mobilité", type="note",
       topics=["hybrids", "diagnostics"], authors=["Sarah Whitfield"],
       words=["beltwearzzz", "tensioner"],
       notes="organisation and type in meta:user-defined; one meta:keyword per topic; "
             "lang in dc:language (en-GB)")

# One paragraph = 1 MiB of the repeated word "bombzzz " (a short period deflates best).
ZIPBOMB_PARA = ('<w:p><w:r><w:t xml:space="preserve">' + "bombzzz " * 131072
                + "</w:t></w:r></w:p>\n")
ZIPBOMB_TARGET = 320 * 1024 * 1024       # bytes of word/document.xml once inflated

sample("zipbomb.docx",
       "DOCX whose word/document.xml inflates to 320 MiB (335 MB): 320 paragraphs of 1 MiB "
       "of the repeated word bombzzz; "
       "the file is < 1 MB",
       expect="error", absent=["bombzzz"],
       notes="the indexer must stop at its size limit and report it, without exhausting "
             "memory; if it chooses to index a truncated prefix instead, bombzzz would be "
             "found, which the tests may accept as long as the limit is enforced")

# ---------------------------------------------------------------------------
# JSON lines
# ---------------------------------------------------------------------------

JSONL_DOCS = [
    {"id": "jsonl-v2g-2024", "title": "Vehicle-to-grid pilots with bidirectional chargers",
     "body": "Bidirectional charging lets a parked car return energy to a building or to the "
             "grid. ISO 15118-20 defines the messages, and CCS hardware with a bidirectional "
             "on-board or off-board converter does the rest. Our pilot with twenty vans showed "
             "that a 60 kWh battery can shave the evening peak of a depot without hurting the "
             "next morning's range. Marker word: jsonalphazzz.",
     "lang": "en", "date": "2024-10-01", "organisation": "EuroPowertrain Joint Office",
     "type": "note", "topics": ["charging", "electrification"], "authors": ["Daniel Brooks"]},
    {"id": "jsonl-efuels-2023", "title": "E-carburants et aviation : quelle part pour l’automobile ?",
     "body": "Les e-carburants produits à partir d’hydrogène électrolytique et de CO2 capté "
             "restent rares et chers. L’aviation et le maritime en demanderont la plus grande "
             "part ; pour l’automobile, l’exemption prévue après 2035 concernera surtout des "
             "véhicules de niche et le parc existant. Mot repère : jsonbetazzz.",
     "lang": "fr", "date": "2023-03-28", "organisation": "Pôle Mobilité Alpes-Rhône",
     "type": "brief", "topics": ["e-fuels", "regulation"], "authors": ["Marc Besson"]},
    {"id": "jsonl-motori-2022", "title": "Motori a flusso assiale per la trazione",
     "body": "I motori a flusso assiale offrono una coppia specifica elevata in poco spazio "
             "assiale e si prestano all'integrazione nelle ruote o tra motore termico e cambio "
             "negli ibridi. La produzione in serie richiede però statori in materiale composito "
             "magnetico e un controllo preciso del traferro. Parola chiave: jsongammazzz.",
     "lang": "it", "date": "2022-05-17", "organisation": "Polo Automotive Torino",
     "type": "study", "topics": ["electric-motors", "hybrids"],
     "authors": ["Chiara Marino", "Stefano Greco"]},
    {"id": "jsonl-ecu-2021", "title": "Calibration des contrôles moteur pour le bioéthanol E85",
     "body": "Le passage à l’E85 impose de revoir l’avance à l’allumage, l’enrichissement au "
             "démarrage à froid et le diagnostic du capteur de teneur en éthanol. Les boîtiers "
             "de conversion homologués en France suivent une procédure dédiée. Mot repère : "
             "jsondeltazzz.",
     "lang": "fr", "date": "2021-11-04", "organisation": "Laboratoire GMP Savoie",
     "type": "note", "topics": ["combustion", "control-systems"], "authors": ["Inès Roussel"]},
    {"id": "jsonl-sofc-2026", "title": "Solid oxide fuel cells as range extenders",
     "body": "Solid oxide fuel cells run at 600 to 800 °C and accept hydrogen, methanol or "
             "ethanol reformate. Their slow start-up suits a range extender that charges the "
             "battery during long trips rather than a primary power source. Marker word: "
             "jsonepsilonzzz.",
     "lang": "en", "date": "2026-02-12", "organisation": "Consorzio Idrogeno Emilia",
     "type": "brief", "topics": ["fuel-cells", "hydrogen"], "authors": ["Anna Colombo"]},
]
JSONL_BAD_LINE = ('{"id": "jsonl-broken", "title": "Ligne cassée", "body": "jsonbrokenzzz '
                  'cette ligne n\'est pas du JSON valide", "lang": "fr",')
JSONL_NOID = {"title": "Document sans identifiant",
              "body": "Cette ligne est du JSON valide mais n’a pas de champ id ; jsonnoidzzz "
                      "ne doit pas être indexé.",
              "lang": "fr", "date": "2020-01-15", "organisation": "Atelier Hydrogène Lyon",
              "type": "note", "topics": ["hydrogen"], "authors": ["Paul Martin"]}

sample("docs.jsonl",
       "JSON Lines, 7 lines: 5 valid documents, line 3 is not JSON, line 6 has no id",
       title="(5 documents, see expected.json)",
       words=["jsonalphazzz", "jsonbetazzz", "jsongammazzz", "jsondeltazzz", "jsonepsilonzzz"],
       absent=["jsonbrokenzzz", "jsonnoidzzz"],
       notes="5 documents indexed with their own ids and metadata; 2 errors reported, "
             "for line 3 (invalid JSON) and line 6 (no id); the errors do not stop the file")

# ---------------------------------------------------------------------------
# Encodings
# ---------------------------------------------------------------------------

UTF16LE_TXT = """Compresseurs d’air électriques pour piles à combustible

Une pile à combustible de 100 kW a besoin d’air sous 2 à 2,5 bar pour atteindre sa
puissance nominale. Le compresseur électrique qui le fournit consomme jusqu’à 15 % de la
puissance produite : c’est le premier auxiliaire du système.

Les machines centrifuges à paliers à air tournent à plus de 100 000 tr/min sans huile, ce qui
protège la membrane. Un turbo-détendeur en sortie récupère une partie de l’énergie de l’air
rejeté. Sur notre banc, l’ajout d’un éjecteurzzz pour recirculer l’hydrogène a réduit la
consommation des auxiliaires de 3 points.
"""

sample("utf16le-bom.txt", "plain text, UTF-16 little-endian with BOM (FF FE), CRLF line ends",
       title="Compresseurs d’air électriques pour piles à combustible", lang="fr",
       words=["éjecteurzzz", "électrique"])

UTF16BE_TXT = """Iniezione diretta di idrogeno nei motori a combustione

Il motore a combustione interna alimentato a idrogeno riutilizza gran parte della
componentistica esistente. Con l’iniezione diretta ad alta pressione si evita il ritorno di
fiamma nel collettore e la potenza specifica si avvicina a quella di un motore diesel.

La velocitàzzz di apertura dell’iniettore è il parametro critico: il gas deve entrare nel
cilindro in pochi millisecondi, dopo la chiusura delle valvole. Le emissioni di NOx si
controllano con miscele povere e un catalizzatore SCR; la CO2 allo scarico è quasi nulla, ciò
che rende questa soluzione interessante per i veicoli pesanti.
"""

sample("utf16be-bom.txt", "plain text, UTF-16 big-endian with BOM (FE FF)",
       title="Iniezione diretta di idrogeno nei motori a combustione", lang="it",
       words=["velocitàzzz", "iniettore"])

LATIN1_TXT = """Distribution variable et carburants de synthèse

Les carburants de synthèse brûlent différemment de l'essence fossile : indice d'octane
élevé, absence de soufre, vitesse de flamme proche. Le réglage de la distribution variable
reste néanmoins à reprendre, car l'ouverture des soupapes d'admission pilote le taux de gaz
brûlés internes.

Sur notre moteur d'essai, le déphaseur électrique d'arbre à cames a permis un gain de 2 % de
rendement à charge partielle. Le critère de légèretézzz du système complet, déphaseur compris,
a été tenu : moins de 1,2 kg ajouté. Les essais à froid, à -20 °C, commenceront à l'automne ;
ils vérifieront aussi la durée de vie des paliers et la façon dont l'huile vieillit.
"""

sample("latin1.txt", "plain text, ISO-8859-1 (no BOM), French with é è à ç",
       title="Distribution variable et carburants de synthèse", lang="fr",
       words=["légèretézzz", "déphaseur"])

CP1252_TXT = """Coût des e-carburants : où en est-on ?

Un litre d’e-essence sortant d’un démonstrateur coûte aujourd’hui entre 4 et 7 € hors taxes,
contre moins de 1 € pour l’essence fossile. Le cœurzzz du problème est l’électricité : il faut
environ 25 kWh pour un litre, avec un rendement global de l’ordre de 50 %.

Les industriels parlent d’un objectif « sous 2 € » vers 2035, à condition de disposer de
grandes unités d’électrolyse et de CO2 biogénique bon marché. L’œuvre est donc de longue
haleine ; le règlement européen réserve ces carburants aux véhicules neutres en CO2 après
2035, une niche plutôt qu’une solution de masse.
"""

sample("cp1252.txt", "plain text, Windows-1252 (no BOM), with € œ ’ « »",
       title="Coût des e-carburants : où en est-on ?", lang="fr",
       words=["cœurzzz", "électrolyse"])

INVALID_UTF8_PARTS = [
    "Fiabilité des connecteurs haute tension\n\n"
    "Les connecteurs des architectures 800 V doivent tenir 1 000 V en continu, résister aux\n"
    "vibrations et garder une résistance de contact inférieure à 0,5 mΩ. La ",
    b"\xff",
    "fiabilité dépend surtout de la pression de contact et de l’état des surfaces argentées.\n\n"
    "Un essai de cyclage thermique entre -40 et 125 °C a montré une dérive de résistance ",
    b"\xc3\x28",
    " après 1 000 cycles sur deux échantillons sur dix. Le repère octetzzz marque ce document.\n"
    "Les connecteurs retenus ont un verrouillage secondaire et un contact pilote (HVIL) ",
    b"\xe2\x82",
    " qui coupe la tension avant l’ouverture ",
    b"\x80\x80",
    ".\n",
]

sample("invalid-utf8.txt",
       "plain text, UTF-8 with a few invalid byte sequences (FF, C3 28, truncated E2 82, 80 80)",
       title="Fiabilité des connecteurs haute tension", lang="fr",
       words=["octetzzz", "connecteurs"],
       notes="invalid bytes replaced or skipped; the valid UTF-8 around them must decode "
             "correctly (e.g. fiabilité, résistance)")

# ---------------------------------------------------------------------------
# Hostile inputs
# ---------------------------------------------------------------------------

sample("binary.html", "4096 pseudo-random bytes (xorshift64*, fixed seed) named .html",
       expect="error",
       notes="detected as binary and skipped (or indexed as empty); no crash, no garbage terms "
             "required")

sample("empty.md", "0-byte Markdown file", expect="empty",
       notes="skipped or reported as empty; no crash")

DEEP_DEPTH = 10000

sample("deep.html", "HTML with 10000 nested `<div>` elements around one paragraph",
       title="Page imbriquée à l’extrême", lang="fr", words=["surfacezzz"],
       notes="no crash, no stack overflow; surfacezzz (before the nesting) must be indexed; "
             "profondzzz (inside the 10000th div) may be dropped by a depth limit")

CONTROL_PARTS = [
    "Sensor log export with control characters\n\n"
    "This export of a battery management system log was pasted from a serial console. "
    "Cell voltages stayed between 3.52 V and 3.61 V during the fast charge, and the "
    "pack temperature peaked at 41 °C.\x00\x00The",
    " log contains stray bytes:\x00nulzzz\x00 between NULs, a bell\x07belzzz\x07, an escape "
    "sequence \x1b[0m, a form feed\x0cand a vertical tab\x0b. Each of them must act as a "
    "separator or be dropped.\x01\x02\x03\n"
    "Balancing current was 150 mA\x7f on the three highest cells; no isolation fault was "
    "recorded by the insulation monitor.\x1f\n",
]

sample("control-chars.txt", "plain text UTF-8 with NUL and other C0 control characters in it",
       title="Sensor log export with control characters", lang="en",
       words=["nulzzz", "belzzz", "insulation"],
       notes="control characters act as separators or are dropped; the text is not truncated "
             "at the first NUL (insulation comes after it)")


# ---------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------

def xorshift_bytes(seed, n):
    """Deterministic pseudo-random bytes (xorshift64*), independent of Python's random."""
    x = seed & 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while len(out) < n:
        x ^= (x >> 12)
        x ^= (x << 25) & 0xFFFFFFFFFFFFFFFF
        x ^= (x >> 27)
        v = (x * 0x2545F4914F6CDD1D) & 0xFFFFFFFFFFFFFFFF
        out += v.to_bytes(8, "little")
    return bytes(out[:n])


def make_zipbomb(path):
    doc = mk.parse_source(
        '---\ntitle: "Charge utile répétée"\ndate: 2020-02-02\nlang: fr\n'
        'organisation: "Atelier Hydrogène Lyon"\ntype: note\ntopics: [diagnostics]\n'
        'authors: ["Test Bombe"]\n---\n\nbombzzz\n', "zipbomb")
    head = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<w:document xmlns:w="%s"><w:body>\n' % mk.W_NS).encode("utf-8")
    tail = b"<w:sectPr/></w:body></w:document>\n"
    para = ZIPBOMB_PARA.encode("utf-8")
    count = (ZIPBOMB_TARGET - len(head) - len(tail)) // len(para) + 1
    date = mk._zip_date(doc) + (0, 0, 0)
    parts = mk.docx_parts(doc, body_xml="")
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w") as zf:
        for name, data in parts:
            if name == "word/document.xml":
                zi = zipfile.ZipInfo(name, date_time=date)
                zi.compress_type = zipfile.ZIP_DEFLATED
                for attr in ("compress_level", "_compresslevel"):   # 3.13+ / older
                    try:
                        setattr(zi, attr, 9)
                    except AttributeError:
                        pass
                zi.create_system = 3
                zi.external_attr = 0o100644 << 16
                zi.file_size = len(head) + len(tail) + count * len(para)
                with zf.open(zi, "w") as w:
                    w.write(head)
                    for _ in range(count):
                        w.write(para)
                    w.write(tail)
            else:
                mk._zip_add(zf, name, data, mk._zip_date(doc))
    os.replace(tmp, path)


def write(path, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    old = None
    if os.path.exists(path):
        with open(path, "rb") as f:
            old = f.read()
    if old != data:
        with open(path, "wb") as f:
            f.write(data)


def join_parts(parts, encoding="utf-8"):
    return b"".join(p if isinstance(p, bytes) else p.encode(encoding) for p in parts)


def readme_table():
    def cell(v):
        if v is None or v == []:
            return "—"
        if isinstance(v, list):
            v = ", ".join(v)
        return str(v).replace("|", "\\|")

    rows = ["| file | what it is | expect | title | lang | date | organisation | type | topics "
            "| must be found | must NOT be found |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in SAMPLES:
        rows.append("| `%s` | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            s["file"], cell(s["what"]), s["expect"], cell(s["title"]), cell(s["lang"]),
            cell(s["date"]), cell(s["organisation"]), cell(s["type"]), cell(s["topics"]),
            cell(["`%s`" % w for w in s["words"]]), cell(["`%s`" % w for w in s["absent"]])))
    return "\n".join(rows)


def readme():
    notes = "\n".join("- `%s`: %s" % (s["file"], s["notes"]) for s in SAMPLES if s["notes"])
    return """# Format samples for the indexer tests

Generated by `python3 scripts/mksamples.py` (standard library only, deterministic; the PDF,
DOCX and ODT files come from `scripts/mkoffice.py`). Do not edit the samples by hand: change
the script and run it again.

**Do not index this folder as a whole with README.md and expected.json in it**: these two
files name every marker word. Index the samples one by one, or skip `README.md` and
`expected.json`. Every marker word (ending in `zzz`) occurs in exactly one sample file and in
no corpus document, so a search for it must return exactly that sample (or nothing). The
other words of the "must be found" column are ordinary words (they also occur elsewhere)
that check the decoding of accents and of the body text.

`expected.json` holds the same facts as the table, machine-readable: a list of objects with
`file`, `what`, `expect`, `title`, `lang`, `date`, `organisation`, `type`, `topics`, `authors`,
`words` (must be found), `absent` (must not be found) and `notes`; `docs.jsonl` has its five
documents under `documents`.

`expect`: **indexed** — indexed with the metadata shown (— means the format has none: the
language is detected from the text, the date comes from the file); **error** — reported as an
error with the file name, nothing indexed; **partial** — error or partial text, never a crash;
**empty** — nothing to index, no crash.

{table}

## Notes

{notes}

## Metadata, format by format

- HTML: `<title>`, `<html lang>`, `<meta name="author|date|organisation|type|keywords|description">`
  (keywords = topic ids, comma-separated; authors separated by `; `).
- XML: elements of `schemas/report.xsd` (`title`, `authors/author`, `organisation`, `date`,
  `language`, `type`, `topics/topic`, `abstract`), id in `report/@id`.
- Markdown: YAML front matter `title`, `date`, `lang`, `organisation`, `type`, `topics`,
  `authors`.
- PDF: Info dictionary (Title, Author = authors joined by `; `, Subject = first paragraph up to
  200 characters, Keywords = topic ids comma-separated, CreationDate) and the XMP stream of the
  Catalog (`dc:title`, `dc:creator` Seq, `dc:publisher` = organisation, `dc:date`,
  `dc:language` = `fr-FR`, `dc:subject` Bag = topic ids, `dc:type`); Catalog `/Lang`.
- DOCX: `docProps/core.xml` (`dc:title`, `dc:creator` = authors `; `, `dc:subject`,
  `cp:keywords` = topic ids, `dc:language` = `it-IT`, `cp:category` = type,
  `dcterms:created`), `docProps/app.xml` `<Company>` = organisation.
- ODT: `meta.xml` (`dc:title`, `meta:initial-creator`/`dc:creator` = authors `; `,
  `dc:language` = `en-GB`, `dc:date`, `meta:creation-date`, `dc:subject`, one `meta:keyword` per
  topic, `meta:user-defined` `organisation` and `type`).
- JSONL: one object per line with `id`, `title`, `body`, `lang`, `date`, `organisation`,
  `type`, `topics` (array), `authors` (array).
- Language tags such as `fr-FR` reduce to their first two letters (`fr`).
""".format(table=readme_table(), notes=notes)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "data", "formats"))
    args = ap.parse_args(argv)
    out = args.out
    os.makedirs(out, exist_ok=True)

    def p(name):
        return os.path.join(out, name)

    write(p("report-fr.html"), REPORT_FR_HTML)
    write(p("report-it.xml"), REPORT_IT_XML)
    write(p("invalid-report.xml"), INVALID_REPORT_XML)
    write(p("malformed.xml"), MALFORMED_XML)
    write(p("brief-en.md"), BRIEF_EN_MD)
    write(p("notes.txt"), NOTES_TXT)

    write(p("brief-fr.pdf"), mk.make_pdf(mk.parse_source(BRIEF_FR_PDF, "brief-fr")))
    full = mk.make_pdf(mk.parse_source(TRUNCATED_SRC, "truncated"))
    write(p("truncated.pdf"), full[:len(full) * 60 // 100])
    write(p("brief-it.docx"), mk.make_docx(mk.parse_source(BRIEF_IT_DOCX, "brief-it")))
    write(p("brief-en.odt"), mk.make_odt(mk.parse_source(BRIEF_EN_ODT, "brief-en")))
    make_zipbomb(p("zipbomb.docx"))

    lines = [json.dumps(JSONL_DOCS[0], ensure_ascii=False),
             json.dumps(JSONL_DOCS[1], ensure_ascii=False),
             JSONL_BAD_LINE,
             json.dumps(JSONL_DOCS[2], ensure_ascii=False),
             json.dumps(JSONL_DOCS[3], ensure_ascii=False),
             json.dumps(JSONL_NOID, ensure_ascii=False),
             json.dumps(JSONL_DOCS[4], ensure_ascii=False)]
    write(p("docs.jsonl"), "\n".join(lines) + "\n")

    write(p("utf16le-bom.txt"),
          b"\xff\xfe" + UTF16LE_TXT.replace("\n", "\r\n").encode("utf-16-le"))
    write(p("utf16be-bom.txt"), b"\xfe\xff" + UTF16BE_TXT.encode("utf-16-be"))
    write(p("latin1.txt"), LATIN1_TXT.encode("iso-8859-1"))
    write(p("cp1252.txt"), CP1252_TXT.encode("cp1252"))
    write(p("invalid-utf8.txt"), join_parts(INVALID_UTF8_PARTS))

    write(p("binary.html"), xorshift_bytes(0x5EED2024C0FFEE, 4096))
    write(p("empty.md"), b"")
    deep = ('<!DOCTYPE html>\n<html lang="fr">\n<head>\n<meta charset="utf-8">\n'
            '<title>Page imbriquée à l’extrême</title>\n</head>\n<body>\n'
            '<p>Cette page teste la profondeur d’imbrication supportée par l’analyseur HTML : '
            'le mot surfacezzz précède dix mille éléments div imbriqués.</p>\n'
            + "<div>" * DEEP_DEPTH
            + "<p>Au plus profond : profondzzz.</p>"
            + "</div>" * DEEP_DEPTH
            + "\n</body>\n</html>\n")
    write(p("deep.html"), deep)
    write(p("control-chars.txt"), join_parts(CONTROL_PARTS))

    expected = []
    for s in SAMPLES:
        e = dict(s)
        if s["file"] == "docs.jsonl":
            e["documents"] = JSONL_DOCS
            e["error_lines"] = [3, 6]
        if s["file"] == "deep.html":
            e["optional"] = ["profondzzz"]
        if s["file"] == "truncated.pdf":
            e["optional"] = ["cutoffzzz", "middlepagezzz", "lastpagezzz"]
        if s["file"] == "brief-fr.pdf":
            e["pages"] = 3
            e["page_words"] = {"1": ["pageunzzz"], "2": ["pagedeuxzzz"], "3": ["pagetroiszzz"]}
        expected.append(e)
    write(p("expected.json"), json.dumps(expected, ensure_ascii=False, indent=1) + "\n")
    write(p("README.md"), readme())
    return 0


if __name__ == "__main__":
    sys.exit(main())
