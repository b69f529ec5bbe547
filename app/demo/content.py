"""The demo courses for `flask seed-demo`: real text, quizzes, assignments and scenarios.

Question answers follow QuizQuestion's format: options are labels; the answer is
{"correct": [indexes]} (single/multiple), {"correct": bool} (true_false),
{"value": n, "tolerance": t} (numeric) or {"accepted": [...]} (short_text).
"""

from __future__ import annotations

# ----------------------------------------------------------------------------- helpers


def text(title: str, body: str, minutes: int = 10) -> dict:
    return {"kind": "text", "title": title, "body": body.strip() + "\n", "minutes": minutes}


def quiz(title: str, questions: list[dict], minutes: int = 10, **settings) -> dict:
    knobs = {"attempt_limit": 3, "time_limit_minutes": 15, "shuffle_questions": True}
    knobs.update(settings)
    return {
        "kind": "quiz",
        "title": title,
        "body": "Answer every question. You may retry up to the attempt limit.",
        "minutes": minutes,
        "settings": knobs,
        "questions": questions,
    }


def assignment(title: str, body: str, rubric: list[tuple[str, int]], minutes: int = 30) -> dict:
    return {
        "kind": "assignment",
        "title": title,
        "body": body.strip() + "\n",
        "minutes": minutes,
        "settings": {
            "submission": "file_or_text",
            "rubric": [{"criterion": c, "points": p} for c, p in rubric],
            "max_points": sum(p for _, p in rubric),
        },
    }


def scenario(title: str, body: str, setup: dict, minutes: int = 20) -> dict:
    # Optional until the scenario player arrives: a required module learners cannot complete
    # would make the course impossible to finish (and publishing refuses such a course).
    return {
        "kind": "scenario",
        "title": title,
        "body": body.strip() + "\n",
        "minutes": minutes,
        "settings": {"scenario": setup},
        "required": False,
    }


def _q(kind, prompt, options, answer, explanation, topic, points) -> dict:
    return {
        "kind": kind,
        "prompt": prompt,
        "options": list(options),
        "answer": answer,
        "explanation": explanation,
        "topic": topic,
        "points": points,
    }


def single(prompt, options, correct: int, explanation, topic, points=1) -> dict:
    return _q("single", prompt, options, {"correct": [correct]}, explanation, topic, points)


def multiple(prompt, options, correct: list[int], explanation, topic, points=2) -> dict:
    return _q("multiple", prompt, options, {"correct": sorted(correct)}, explanation, topic, points)


def true_false(prompt, correct: bool, explanation, topic, points=1) -> dict:
    return _q(
        "true_false", prompt, ["True", "False"], {"correct": correct}, explanation, topic, points
    )


def numeric(prompt, value, tolerance, explanation, topic, points=1) -> dict:
    answer = {"value": value, "tolerance": tolerance}
    return _q("numeric", prompt, [], answer, explanation, topic, points)


def short_text(prompt, accepted, explanation, topic, points=1) -> dict:
    return _q("short_text", prompt, [], {"accepted": list(accepted)}, explanation, topic, points)


# ----------------------------------------------------------------------------- GxP

GMP_101 = {
    "code": "GMP-101",
    "title": "GMP basics",
    "summary": "What Good Manufacturing Practice asks of everyone who touches a medicinal product, "
    "and why: people, premises, processes, products and paperwork.",
    "category": "GxP",
    "tags": ["gmp", "quality", "basics", "onboarding"],
    "level": "beginner",
    "validity_months": 12,
    "mandatory": True,
    "onboarding": True,
    "modules": [
        text(
            "Why GMP exists",
            """
Good Manufacturing Practice (GMP) is the part of quality assurance that makes sure medicines are
**consistently produced and controlled** to the standards their marketing authorisation requires.
A tablet that is 5 % too strong, or a vial contaminated by a single careless glove, can harm a
patient who has no way of noticing.

GMP rules came from real tragedies. In 1937 more than a hundred people died after taking an
elixir made with diethylene glycol; in 1961 thalidomide showed what happens when side effects are
not tracked. Every rule you will follow here exists because someone, somewhere, got it wrong.

GMP is not only for QA. It applies to you whenever you:

- weigh, mix, fill or pack product;
- clean or maintain equipment and rooms;
- write anything on a batch record, logbook or label;
- receive, store or ship materials.
""",
        ),
        text(
            "The five Ps",
            """
A simple way to remember what GMP controls is the **five Ps**:

1. **People** — trained for the task they do, with training recorded *before* they do it alone.
2. **Premises** — rooms and equipment that are designed, cleaned and maintained to prevent
   mix-ups and contamination.
3. **Processes** — validated, written down in approved SOPs, and followed as written.
4. **Products** — materials tested and released before use; finished goods released by a
   Qualified Person.
5. **Paperwork** — records made at the time of the activity, legible and traceable.

> If it is not written down, it did not happen.

When a procedure cannot be followed as written, **stop and tell your supervisor**. Working
around a problem without a record is itself a GMP deviation.
""",
        ),
        quiz(
            "Check your understanding",
            [
                single(
                    "You notice the SOP step you are performing does not match the equipment "
                    "in front of you. What do you do?",
                    [
                        "Do it the way that works and tell QA later",
                        "Stop, do not continue, and inform your supervisor",
                        "Skip the step and note it at the end of the shift",
                    ],
                    1,
                    "Never improvise around an approved procedure; stopping and escalating lets "
                    "QA assess the impact and record a deviation if needed.",
                    "procedures",
                ),
                multiple(
                    "Which of these are among the five Ps of GMP?",
                    ["People", "Premises", "Profit", "Paperwork", "Publicity"],
                    [0, 1, 3],
                    "The five Ps are People, Premises, Processes, Products and Paperwork.",
                    "five-ps",
                ),
                true_false(
                    "A trained operator may do a task alone before the training record is "
                    "signed off, as long as they are competent.",
                    False,
                    "Training must be completed and recorded before working unsupervised.",
                    "training",
                ),
                short_text(
                    "Complete the GMP saying: 'If it is not written down, it did not ...'",
                    ["happen", "happen.", "occur"],
                    "Undocumented work cannot be proven and is treated as not done.",
                    "documentation",
                ),
            ],
        ),
        assignment(
            "Spot the GMP gaps on your line",
            """
Walk through your own work area (or use the photo set your trainer gives you) and list **three**
things that could lead to a mix-up, contamination or missing record. For each one, say which of
the five Ps it touches and what you would change. Upload a short document or type your answer.
""",
            [("Three realistic observations", 4), ("Correct P for each", 3), ("Sensible fix", 3)],
        ),
    ],
}

GMP_102_DE = {
    "code": "GMP-101-DE",
    "title": "GMP-Grundlagen",
    "summary": "Die Grundregeln der Guten Herstellungspraxis für alle Mitarbeitenden in "
    "Produktion, Labor und Lager — kurz und praxisnah.",
    "category": "GxP",
    "tags": ["gmp", "qualität", "grundlagen", "onboarding"],
    "level": "beginner",
    "language": "de",
    "validity_months": 12,
    "mandatory": True,
    "onboarding": True,
    "owner": "Thomas Huber",
    "modules": [
        text(
            "Warum GMP?",
            """
Die Gute Herstellungspraxis (GMP) stellt sicher, dass Arzneimittel **gleichbleibend** in der
Qualität hergestellt und geprüft werden, die ihre Zulassung verlangt. Patientinnen und Patienten
können nicht prüfen, ob eine Tablette richtig dosiert ist — sie verlassen sich auf uns.

GMP betrifft alle, die Material annehmen, wiegen, mischen, abfüllen, verpacken, reinigen oder
dokumentieren. Qualität wird nicht „hineingeprüft“, sondern hergestellt.
""",
        ),
        text(
            "Dokumentation: Was nicht dokumentiert ist, ist nicht geschehen",
            """
Einträge in Chargenprotokolle und Logbücher werden **zeitnah**, **leserlich** und **dauerhaft**
gemacht — mit Kugelschreiber, nie mit Bleistift.

- Korrekturen: einmal durchstreichen, sodass der alte Wert lesbar bleibt, Datum, Kürzel, Grund.
- Kein Tipp-Ex, keine Notizzettel, keine Einträge „auf Vorrat“.
- Wer einen Schritt ausführt, unterschreibt ihn selbst.
""",
        ),
        quiz(
            "Wissenstest",
            [
                single(
                    "Wie korrigieren Sie einen falschen Eintrag im Chargenprotokoll?",
                    [
                        "Mit Korrekturflüssigkeit überdecken und neu schreiben",
                        "Einmal durchstreichen, lesbar lassen, Datum, Kürzel und Grund ergänzen",
                        "Die Seite neu ausdrucken und abschreiben",
                    ],
                    1,
                    "Der ursprüngliche Wert bleibt lesbar; die Korrektur ist nachvollziehbar.",
                    "dokumentation",
                ),
                true_false(
                    "Einträge dürfen am Schichtende gesammelt nachgetragen werden.",
                    False,
                    "Einträge werden zeitgleich mit der Tätigkeit gemacht (contemporaneous).",
                    "dokumentation",
                ),
                true_false(
                    "Qualität kann am Ende durch die Prüfung im Labor hergestellt werden.",
                    False,
                    "Qualität muss im Prozess entstehen; die Prüfung bestätigt sie nur.",
                    "grundsätze",
                ),
            ],
        ),
    ],
}

GMP_110 = {
    "code": "GMP-110",
    "title": "Data integrity: ALCOA+",
    "summary": "Make records that inspectors and patients can trust: the ALCOA+ principles for "
    "paper and electronic data, audit trails and what never to do with a password.",
    "category": "GxP",
    "tags": ["gmp", "data-integrity", "alcoa", "documentation"],
    "level": "intermediate",
    "validity_months": 12,
    "mandatory": True,
    "passing_score": 85,
    "modules": [
        text(
            "ALCOA+ explained",
            """
Regulators expect GMP data to be **ALCOA+**:

| Letter | Means | In practice |
|---|---|---|
| **A**ttributable | who did it, and when | your own login, your own signature |
| **L**egible | readable for the whole retention period | no pencil, no thermal paper without copy |
| **C**ontemporaneous | recorded at the time | never "catch up" at the end of the shift |
| **O**riginal | the first capture, or a certified copy | keep the balance print-out |
| **A**ccurate | correct and truthful | corrections visible, with a reason |

The **+** adds *Complete*, *Consistent*, *Enduring* and *Available*: nothing deleted, the same
time source everywhere, stored on durable media, and retrievable for review or inspection.
""",
        ),
        text(
            "Audit trails and electronic records",
            """
In a computerised system the **audit trail** records who created, changed or deleted data, when,
and why. It must be switched on, cannot be edited by users, and is reviewed as part of batch
release.

Things that destroy data integrity:

- sharing a login, or letting a colleague "just finish" under your session;
- re-running an injection until the result passes ("testing into compliance");
- deleting or hiding "trial" results;
- changing the system clock.

If you see any of these, report it. Cadre's own audit trail works the same way: every change to
a training record is logged and cannot be altered.
""",
            minutes=12,
        ),
        quiz(
            "ALCOA+ quiz",
            [
                single(
                    "What does the 'C' in ALCOA stand for?",
                    ["Complete", "Contemporaneous", "Consistent", "Controlled"],
                    1,
                    "In ALCOA the C is Contemporaneous; Complete and Consistent belong to the +.",
                    "alcoa",
                ),
                multiple(
                    "Which actions break data integrity?",
                    [
                        "Using a colleague's login to finish their sequence",
                        "Correcting an entry with a single line, date, initials and reason",
                        "Repeating a test until it passes without investigating the failure",
                        "Keeping the original balance print-out with the batch record",
                    ],
                    [0, 2],
                    "Shared logins and testing into compliance are classic violations.",
                    "behaviour",
                ),
                true_false(
                    "Users with the analyst role should be able to edit the audit trail to fix "
                    "typos.",
                    False,
                    "Audit trails must be protected from change by any user.",
                    "audit-trail",
                ),
                numeric(
                    "A record must be retained for 1 year after the batch expiry date. The batch "
                    "expires 4 years after manufacture. How many years after manufacture may the "
                    "record be destroyed at the earliest?",
                    5,
                    0,
                    "Expiry (4 years) plus one year of retention gives 5 years.",
                    "retention",
                ),
                short_text(
                    "Name the record that shows who changed electronic data, when and why.",
                    ["audit trail", "audit-trail", "audittrail"],
                    "The audit trail captures the who, what, when and why of every change.",
                    "audit-trail",
                ),
            ],
        ),
        scenario(
            "Review a chromatography result",
            """
You are the second-person reviewer for an HPLC assay. Look at the sequence log and the audit trail
extract in the exercise and decide, for each injection, whether the data can be accepted, needs a
question to the analyst, or must be escalated to QA as a potential data-integrity breach.
""",
            {
                "type": "record_review",
                "items": [
                    {
                        "id": "INJ-1",
                        "note": "Injected 09:02, processed 09:20",
                        "expected": "accept",
                    },
                    {
                        "id": "INJ-2",
                        "note": "Processed 3 times with different integration, no reason",
                        "expected": "question",
                    },
                    {
                        "id": "INJ-3",
                        "note": "Deleted at 17:55 by analyst, re-injected, passed",
                        "expected": "escalate",
                    },
                ],
            },
        ),
    ],
}

GMP_120 = {
    "code": "GMP-120",
    "title": "Cleanroom gowning",
    "summary": "The gowning sequence for grade C and B areas, why each step matters, and how your "
    "gowning qualification works.",
    "category": "GxP",
    "tags": ["gmp", "cleanroom", "gowning", "contamination"],
    "level": "beginner",
    "validity_months": 12,
    "mandatory": True,
    "modules": [
        text(
            "Why people are the biggest contamination source",
            """
A person at rest sheds about **100,000 particles** of 0.5 µm or larger every minute; walking,
that rises to millions. Many carry bacteria. Cleanroom garments are a filter between you and the
product, and they only work when they are put on in the right order without touching the outside.

Before you enter: no make-up, jewellery, watches or phones; hands washed; illness (cold, open
wounds, skin conditions) reported to your supervisor.
""",
        ),
        text(
            "The gowning sequence for grade B",
            """
1. At the first bench: step over, put on shoe covers one foot at a time.
2. Wash and disinfect hands; put on the first pair of gloves.
3. Put on the hood, then the face mask, adjusting it over the nose.
4. Take the coverall from its pack **by the inside**, without letting it touch the floor.
5. Put on the coverall, tuck the hood in, zip fully.
6. Put on sterile boots over the coverall legs, then goggles.
7. Disinfect gloves, put on the second pair over the cuffs.
8. Check yourself in the mirror: no skin or hair visible.

If any part touches the floor or an unclean surface, **discard it and start that step again**.
""",
            minutes=8,
        ),
        quiz(
            "Gowning check",
            [
                single(
                    "Your coverall sleeve brushes the floor while dressing. What now?",
                    [
                        "Wipe it with disinfectant and continue",
                        "Discard the coverall and take a new one",
                        "Continue; the second gloves will cover it",
                    ],
                    1,
                    "Anything that touches the floor is contaminated and must be replaced.",
                    "sequence",
                ),
                numeric(
                    "Roughly how many particles (≥ 0.5 µm) per minute does a person shed at "
                    "rest? Answer in thousands.",
                    100,
                    20,
                    "About 100,000 per minute at rest, much more when moving.",
                    "contamination",
                ),
                true_false(
                    "A wristwatch may be worn under the coverall if it is cleaned first.",
                    False,
                    "No jewellery or watches: they tear gloves and shed particles.",
                    "preparation",
                ),
                multiple(
                    "Which must be reported before entering a grade B area?",
                    [
                        "A cold or cough",
                        "A sunburn that is peeling",
                        "A new haircut",
                        "An open cut",
                    ],
                    [0, 1, 3],
                    "Illness and skin conditions raise the microbial load you bring in.",
                    "preparation",
                ),
            ],
        ),
        assignment(
            "Gowning qualification record",
            """
Perform the full grade B gowning sequence under observation by a trainer. Afterwards, glove and
garment contact plates are taken at five sites. Upload the signed observation sheet and the
plate results when the lab has read them (after 5 days of incubation).
""",
            [("Sequence followed without prompting", 5), ("Plates within limits", 5)],
            minutes=45,
        ),
    ],
}

GMP_120_FR = {
    "code": "GMP-120-FR",
    "title": "Habillage en salle propre",
    "summary": "La séquence d'habillage pour les zones de classe B, expliquée pas à pas pour les "
    "équipes francophones.",
    "category": "GxP",
    "tags": ["gmp", "salle-propre", "habillage", "contamination"],
    "level": "beginner",
    "language": "fr",
    "validity_months": 12,
    "owner": "Claire Dubois",
    "modules": [
        text(
            "Pourquoi l'habillage est essentiel",
            """
L'être humain est la première source de contamination en salle propre : au repos, nous émettons
environ **100 000 particules** par minute. La tenue de salle propre agit comme un filtre, à
condition d'être enfilée dans le bon ordre et sans toucher l'extérieur.

Avant d'entrer : ni maquillage, ni bijoux, ni montre ; mains lavées ; toute maladie signalée.
""",
        ),
        text(
            "La séquence pas à pas",
            """
1. Surchaussures, un pied après l'autre, en franchissant le banc.
2. Lavage et désinfection des mains, première paire de gants.
3. Cagoule, puis masque ajusté sur le nez.
4. Combinaison saisie **par l'intérieur**, sans contact avec le sol.
5. Bottes stériles, lunettes, seconde paire de gants par-dessus les poignets.
6. Contrôle dans le miroir : aucune peau ni cheveu visible.
""",
        ),
        quiz(
            "Vérification des acquis",
            [
                single(
                    "La combinaison touche le sol pendant l'habillage. Que faites-vous ?",
                    [
                        "Je la désinfecte et je continue",
                        "Je la jette et j'en prends une neuve",
                        "Je continue, personne ne l'a vu",
                    ],
                    1,
                    "Tout élément ayant touché le sol est contaminé.",
                    "séquence",
                ),
                true_false(
                    "On peut garder sa montre sous la combinaison.",
                    False,
                    "Aucun bijou ni montre en zone propre.",
                    "préparation",
                ),
                short_text(
                    "Quel élément enfile-t-on en tout premier ?",
                    ["surchaussures", "les surchaussures", "surchaussure"],
                    "On commence par les surchaussures en franchissant le banc.",
                    "séquence",
                ),
            ],
        ),
    ],
}

QA_210 = {
    "code": "QA-210",
    "title": "Deviation handling and CAPA",
    "summary": "Recognise a deviation, record it the same day, find the root cause and choose "
    "corrective and preventive actions that actually prevent recurrence.",
    "category": "Quality",
    "tags": ["gmp", "deviation", "capa", "root-cause"],
    "level": "intermediate",
    "validity_months": 24,
    "owner": "Thomas Huber",
    "modules": [
        text(
            "What counts as a deviation",
            """
A **deviation** is any departure from an approved instruction or established standard: a step
done out of order, an out-of-range temperature, a missed cleaning, a label printed with the wrong
lot. Deviations are classified by their potential impact on product quality and patient safety:

- **Minor** — no impact on quality (e.g. a late logbook signature discovered the same day);
- **Major** — possible impact, needs investigation before release;
- **Critical** — likely impact on patient safety; batch on hold, QA head informed at once.

Report what you saw **the same day**, even if you are not sure it matters. QA classifies; you
describe facts: what, where, when, which batch, what you did.
""",
        ),
        text(
            "Root cause analysis and CAPA",
            """
"Operator error" is almost never a root cause. Ask **why** until you reach something the system
can change:

1. Why was the wrong lot used? — Two lots were on the same pallet.
2. Why? — The warehouse put away two lots together.
3. Why? — The put-away screen does not warn on mixed lots.

Tools: *5 Whys*, the *fishbone* (Ishikawa) diagram with its six Ms (Man, Machine, Method,
Material, Measurement, Mother nature), and fault-tree analysis for complex events.

A **corrective action** removes the cause of this deviation; a **preventive action** stops it
happening elsewhere. Every CAPA gets an owner, a due date and an **effectiveness check**.
""",
            minutes=12,
        ),
        quiz(
            "Deviation quiz",
            [
                single(
                    "A fridge holding samples read 9 °C (limit 2–8 °C) for 40 minutes overnight. "
                    "When should you report it?",
                    [
                        "Today, as soon as it is found",
                        "At the next weekly meeting",
                        "Only if the samples fail testing",
                    ],
                    0,
                    "Deviations are reported the same day so impact can be assessed in time.",
                    "reporting",
                ),
                true_false(
                    "'Operator error' is an acceptable root cause if retraining is the CAPA.",
                    False,
                    "Look for the system cause that allowed the error; retraining alone rarely "
                    "prevents recurrence.",
                    "root-cause",
                ),
                multiple(
                    "Which belong to the six Ms of a fishbone diagram?",
                    ["Method", "Material", "Money", "Measurement", "Marketing"],
                    [0, 1, 3],
                    "The six Ms are Man, Machine, Method, Material, Measurement, Mother nature.",
                    "root-cause",
                ),
                single(
                    "What must every CAPA have besides an owner and a due date?",
                    ["A budget code", "An effectiveness check", "A customer notification"],
                    1,
                    "Effectiveness checks prove the action worked.",
                    "capa",
                ),
            ],
        ),
        scenario(
            "Classify three deviations",
            """
Three events were reported on the packaging line this week. Read each description and classify it
as minor, major or critical, then choose the first action.
""",
            {
                "type": "classification",
                "items": [
                    {
                        "id": "D-1",
                        "note": "Cleaning log signed 2 h late, cleaning done on time",
                        "expected": "minor",
                    },
                    {
                        "id": "D-2",
                        "note": "Checkweigher reject bin not emptied; 14 rejects mixed "
                        "back into good product",
                        "expected": "critical",
                    },
                    {
                        "id": "D-3",
                        "note": "Line clearance form missing second signature",
                        "expected": "major",
                    },
                ],
            },
        ),
    ],
}

QA_220 = {
    "code": "QA-220",
    "title": "Writing effective SOPs",
    "summary": "Write standard operating procedures that people can follow on the shop floor: "
    "structure, plain language, one action per step, and review.",
    "category": "Quality",
    "tags": ["sop", "documentation", "writing", "gmp"],
    "level": "advanced",
    "modules": [
        text(
            "Anatomy of an SOP",
            """
Every SOP at Cadre Pharma follows the same skeleton so readers know where to look:

1. **Purpose** — one or two sentences: why this procedure exists.
2. **Scope** — where and to whom it applies, and what it does *not* cover.
3. **Responsibilities** — roles, not names.
4. **Definitions** — only the terms a new starter would not know.
5. **Procedure** — numbered steps.
6. **Records** — which forms are filled in, where they are kept.
7. **References and change history.**
""",
        ),
        text(
            "Steps people can follow",
            """
- Start each step with a verb: *Close*, *Record*, *Check*.
- One action per step. If you write "and", consider splitting.
- Put the warning **before** the step it applies to, not after.
- Give the acceptance criterion where the decision is made: "Check the pressure is between
  1.8 and 2.2 bar. If not, stop and call maintenance."
- Test the draft: ask someone who has never done the task to follow it while you watch silently.
""",
        ),
        quiz(
            "SOP writing quiz",
            [
                single(
                    "Which step is written best?",
                    [
                        "The pressure should be checked and recorded if OK and the valve opened",
                        "Check the pressure is 1.8–2.2 bar. Record it on form F-12.",
                        "Pressure: see spec",
                    ],
                    1,
                    "One action, a clear criterion and the record to fill in.",
                    "steps",
                ),
                true_false(
                    "Responsibilities in an SOP should name individual people.",
                    False,
                    "Use roles; people change jobs, roles stay.",
                    "structure",
                ),
                true_false(
                    "Safety warnings belong before the step they apply to.",
                    True,
                    "A warning after the step comes too late.",
                    "steps",
                ),
            ],
        ),
        assignment(
            "Rewrite an SOP section",
            """
Take the 'Line clearance' section attached to this module. It is written as one long paragraph.
Rewrite it as numbered steps following the rules in this course, and list any information you
found missing. Submit your rewrite as a document or paste it as text.
""",
            [
                ("Numbered, one action per step", 4),
                ("Criteria and records stated", 3),
                ("Gaps identified", 3),
            ],
            minutes=40,
        ),
    ],
}

# ----------------------------------------------------------------------------- marketplace

MKT_101 = {
    "code": "MKT-101",
    "title": "Seller onboarding",
    "summary": "Everything a new seller needs before the first order: account health, listing "
    "rules, prohibited items, dispatch promises and how payouts work.",
    "category": "Marketplace",
    "tags": ["seller", "onboarding", "marketplace", "policies"],
    "level": "beginner",
    "mandatory": True,
    "onboarding": True,
    "owner": "Hannah Clarke",
    "modules": [
        text(
            "Welcome to the marketplace",
            """
Welcome! Buyers trust the marketplace because every shop meets the same standards. Your
**account health** is measured on four numbers, shown on your seller dashboard:

| Metric | Target |
|---|---|
| Order defect rate | below 1 % |
| Late shipment rate | below 4 % |
| Pre-fulfilment cancellation rate | below 2.5 % |
| Response time to buyer messages | within 24 hours |

Shops that stay on target unlock higher commission tiers and cash advances. Shops that miss them
are asked to complete targeted training before some features are available again.
""",
        ),
        text(
            "Listing rules and prohibited items",
            """
A listing must describe **exactly** the item the buyer will receive:

- photos of the actual product on a plain background, no watermarks or contact details;
- the condition stated honestly (new, refurbished, used);
- the dispatch time you can really meet — it becomes your promise.

Never list: medicines and medical devices without approval, weapons, counterfeit goods, recalled
products, live animals, or anything that requires a licence you do not hold. When in doubt, ask
Seller Success before you list.
""",
        ),
        quiz(
            "Onboarding quiz",
            [
                numeric(
                    "What is the maximum late shipment rate (in %) for a healthy account?",
                    4,
                    0,
                    "The target is a late shipment rate below 4 %.",
                    "account-health",
                ),
                single(
                    "Which photo is allowed as the main image?",
                    [
                        "A manufacturer's stock photo with your shop logo watermark",
                        "The actual product on a plain background",
                        "A photo with your phone number so buyers can call",
                    ],
                    1,
                    "No watermarks or contact details; show the real item.",
                    "listings",
                ),
                multiple(
                    "Which items may never be listed without special approval?",
                    ["Medicines", "Hand-knitted scarves", "Recalled products", "Counterfeit goods"],
                    [0, 2, 3],
                    "Medicines need approval; recalled and counterfeit items are banned.",
                    "prohibited-items",
                ),
                true_false(
                    "The dispatch time on your listing is a promise measured in your late "
                    "shipment rate.",
                    True,
                    "Set a dispatch time you can meet every time.",
                    "shipping",
                ),
                short_text(
                    "Within how many hours should you answer buyer messages? (number only)",
                    ["24", "24h", "24 hours"],
                    "Respond within 24 hours, weekends included.",
                    "communication",
                ),
            ],
        ),
        assignment(
            "Create your first compliant listing",
            """
Draft a listing for one of your products: title, five bullet points, condition, dispatch time and
two photos. Submit it here; a Seller Success manager reviews it against the listing rules and
sends you feedback within two working days.
""",
            [
                ("Accurate title and description", 4),
                ("Photos follow the rules", 3),
                ("Realistic dispatch time", 3),
            ],
        ),
    ],
}

MKT_120 = {
    "code": "MKT-120",
    "title": "Shipping SLAs and late shipments",
    "summary": "How dispatch and delivery promises are measured, what drives late shipments and "
    "the habits that keep your late shipment rate under 4 %.",
    "category": "Marketplace",
    "tags": ["shipping", "sla", "late-shipment", "fulfillment"],
    "level": "intermediate",
    "owner": "Hannah Clarke",
    "modules": [
        text(
            "How SLAs are measured",
            """
An order is **late** when the carrier's first scan happens after the expected dispatch date.
Marking an order "shipped" without a scan does not count; only the carrier event does.

The **late shipment rate** is late orders divided by all dispatched orders over a rolling 30-day
window. A rate of 4 % or more triggers a warning and assigns this course; 10 % or more can
suspend the "fast dispatch" badge.

Example: 9 late out of 180 orders is 5 % — above target.
""",
        ),
        text(
            "Preventing late shipments",
            """
- **Cut-off times:** set an order cut-off that leaves time to pack before the last collection.
- **Handling time buffers:** add a day in peak season or when stock is at a second location.
- **Stock accuracy:** an item shown in stock but not on the shelf becomes a late order or a
  cancellation; count fast movers weekly.
- **Holidays:** set your holiday dates in advance so promises pause automatically.
- **Carrier choice:** use tracked services; a missing scan is treated as late.
""",
        ),
        quiz(
            "SLA quiz",
            [
                numeric(
                    "A shop dispatched 250 orders in 30 days; 15 were late. What is the late "
                    "shipment rate in %?",
                    6,
                    0.1,
                    "15 / 250 = 0.06 = 6 %.",
                    "late-shipment-rate",
                ),
                true_false(
                    "Marking an order as shipped in the seller portal stops the SLA clock.",
                    False,
                    "Only the carrier's first scan counts.",
                    "measurement",
                ),
                single(
                    "Which change best reduces late shipments in peak season?",
                    ["Lower prices", "Add a day of handling time", "Switch to untracked post"],
                    1,
                    "A realistic handling time keeps the promise achievable.",
                    "prevention",
                ),
                multiple(
                    "Which of these cause late shipments?",
                    [
                        "Inaccurate stock counts",
                        "Order cut-off after last collection",
                        "Holiday dates set in advance",
                        "Untracked carrier services",
                    ],
                    [0, 1, 3],
                    "Holiday settings prevent lateness; the others cause it.",
                    "prevention",
                ),
            ],
        ),
        scenario(
            "Triage today's orders",
            """
It is 14:30 and the last carrier collection is at 16:00. You have eight open orders and time to
pack five. Choose which five to pack now so that no order misses its dispatch promise.
""",
            {
                "type": "order_processing",
                "capacity": 5,
                "orders": [
                    {"id": "A-1001", "due": "today", "items": 1},
                    {"id": "A-1002", "due": "tomorrow", "items": 2},
                    {"id": "A-1003", "due": "today", "items": 3},
                    {"id": "A-1004", "due": "today", "items": 1},
                    {"id": "A-1005", "due": "in 3 days", "items": 1},
                    {"id": "A-1006", "due": "today", "items": 2},
                    {"id": "A-1007", "due": "tomorrow", "items": 1},
                    {"id": "A-1008", "due": "today", "items": 1},
                ],
                "expected": ["A-1001", "A-1003", "A-1004", "A-1006", "A-1008"],
            },
        ),
    ],
}

MKT_130 = {
    "code": "MKT-130",
    "title": "Returns handling",
    "summary": "Process returns quickly and fairly: the return window, refund timing, inspecting "
    "returned items, and when to ask for photos instead of the item.",
    "category": "Marketplace",
    "tags": ["returns", "refunds", "customer-service", "seller"],
    "level": "beginner",
    "owner": "Hannah Clarke",
    "modules": [
        text(
            "The returns policy in practice",
            """
Buyers may return most items within **30 days** of delivery. Once the return is scanned by the
carrier, you have **2 business days** to refund. Late refunds count towards your order defect
rate.

- *Changed mind:* the buyer pays return postage unless your listing says otherwise.
- *Faulty or not as described:* you pay return postage and refund in full.
- *Low value items (under £10):* consider a **returnless refund**; postage would cost more.

Inspect returned items on arrival and record the condition with a photo. If an item comes back
damaged by the buyer, you may deduct up to 50 % — with evidence.
""",
        ),
        quiz(
            "Returns quiz",
            [
                numeric(
                    "How many business days do you have to refund after the return is scanned?",
                    2,
                    0,
                    "Refund within 2 business days of the carrier scan.",
                    "refund-timing",
                ),
                single(
                    "A buyer reports a £6 phone case arrived cracked. What is the best response?",
                    [
                        "Ask them to post it back first",
                        "Offer a returnless refund",
                        "Decline: cases are not returnable",
                    ],
                    1,
                    "For low-value faulty items, a returnless refund is faster and cheaper.",
                    "returnless",
                ),
                true_false(
                    "For a faulty item, the buyer pays the return postage.",
                    False,
                    "When the item is faulty or not as described, the seller pays.",
                    "postage",
                ),
                numeric(
                    "What is the maximum deduction in % for an item damaged by the buyer?",
                    50,
                    0,
                    "Up to 50 %, with photo evidence.",
                    "deductions",
                ),
            ],
        ),
        scenario(
            "Process three return requests",
            """
Three return requests arrived this morning. For each, choose: full refund after return, returnless
refund, partial refund, or decline.
""",
            {
                "type": "order_processing",
                "orders": [
                    {
                        "id": "R-201",
                        "note": "£8 mug arrived chipped, photo attached",
                        "expected": "returnless_refund",
                    },
                    {
                        "id": "R-202",
                        "note": "£120 jacket, changed mind, day 12, unworn",
                        "expected": "full_refund_after_return",
                    },
                    {"id": "R-203", "note": "£60 lamp returned on day 41", "expected": "decline"},
                ],
            },
        ),
    ],
}

CS_101 = {
    "code": "CS-101",
    "title": "Customer communication",
    "summary": "Write replies that solve the problem the first time: tone, structure, and the "
    "HEARD model for complaints. Improves CSAT for agents and sellers alike.",
    "category": "Customer Service",
    "tags": ["communication", "customer-service", "csat", "writing"],
    "level": "beginner",
    "owner": "Hannah Clarke",
    "modules": [
        text(
            "Tone and clarity",
            """
Customers judge the answer *and* how it felt. Good replies:

- use the customer's name and answer their actual question in the **first sentence**;
- say what you will do and **by when**;
- avoid internal words ("WMS", "SLA breach") and blame ("the warehouse messed up");
- end with one clear next step, not a list of options.

Read your reply aloud before sending. If it sounds like a form letter, rewrite the first line.
""",
        ),
        text(
            "Handling complaints: HEARD",
            """
**H**ear — let the customer tell the whole story.
**E**mpathise — acknowledge the impact: "Waiting a week for a birthday present is frustrating."
**A**pologise — sincerely, for the experience, without arguing about fault.
**R**esolve — fix it, or say exactly what happens next.
**D**iagnose — afterwards, find out why it happened and log it so it does not repeat.
""",
        ),
        quiz(
            "Communication quiz",
            [
                single(
                    "Which opening line is best?",
                    [
                        "Thank you for contacting us. Your query is important to us.",
                        "Hi Sam, your replacement headphones left our warehouse today and "
                        "arrive Thursday.",
                        "As per our policy, please allow 5–7 working days.",
                    ],
                    1,
                    "Answer the question in the first sentence, personally.",
                    "tone",
                ),
                short_text(
                    "In HEARD, what does the E stand for?",
                    ["empathise", "empathize", "empathy"],
                    "Empathise: acknowledge how the problem affected the customer.",
                    "heard",
                ),
                true_false(
                    "Explaining which internal team caused the delay helps build trust.",
                    False,
                    "Take ownership; internal blame makes the company look disorganised.",
                    "tone",
                ),
            ],
        ),
        assignment(
            "Answer a difficult message",
            """
A buyer writes: "Third time I'm asking. Where is my order?? You people are useless." The order
was delayed by a stock error and ships tomorrow. Write your reply using HEARD.
""",
            [
                ("Acknowledges and apologises", 3),
                ("Clear resolution with date", 4),
                ("Tone professional and warm", 3),
            ],
            minutes=20,
        ),
    ],
}

FUL_301 = {
    "code": "FUL-301",
    "title": "Advanced fulfillment",
    "summary": "Run a high-volume fulfillment operation: wave planning, inventory accuracy, "
    "exception handling and the safety rules of a busy warehouse. Required for tier 2 privileges.",
    "category": "Fulfillment",
    "tags": ["fulfillment", "warehouse", "inventory", "safety"],
    "level": "advanced",
    "validity_months": 12,
    "passing_score": 85,
    "owner": "Hannah Clarke",
    "modules": [
        text(
            "Pick, pack, ship at scale",
            """
Above a few hundred orders a day, picking order by order wastes most of the walking time. Group
orders into **waves** by carrier collection time, then by zone:

1. Release the wave for the earliest collection first.
2. Batch-pick single-item orders; pick multi-item orders to a tote per order.
3. Pack at the station nearest the carrier lane.

Measure **units per hour** and **order cycle time** per wave, not per person: bottlenecks are
usually at packing or labelling, not picking.
""",
        ),
        text(
            "Inventory accuracy and exceptions",
            """
Inventory accuracy below 99 % shows up as cancellations and late shipments. Keep it high with:

- **cycle counts:** A items (fast movers) weekly, B monthly, C quarterly;
- **one scan per movement:** never move stock without scanning both locations;
- **exception lane:** short picks, damaged stock and address problems go to a single lane with
  an owner, so they are resolved before the collection, not after.
""",
        ),
        quiz(
            "Fulfillment quiz",
            [
                single(
                    "How often should A items be cycle counted?",
                    ["Daily", "Weekly", "Quarterly"],
                    1,
                    "Fast movers (A items) are counted weekly.",
                    "inventory",
                ),
                numeric(
                    "A wave of 420 units was packed by 6 people in 2 hours. What was the "
                    "rate in units per person-hour?",
                    35,
                    0.5,
                    "420 / (6 × 2) = 35.",
                    "productivity",
                ),
                true_false(
                    "Stock may be moved between bins without scanning if it is recorded at the "
                    "end of the shift.",
                    False,
                    "Every movement is scanned at both locations when it happens.",
                    "inventory",
                ),
                multiple(
                    "What goes to the exception lane?",
                    [
                        "Short picks",
                        "Damaged stock",
                        "Orders for the next wave",
                        "Invalid addresses",
                    ],
                    [0, 1, 3],
                    "Exceptions have one owner and are cleared before collection.",
                    "exceptions",
                ),
            ],
        ),
        scenario(
            "Plan the afternoon waves",
            """
You have 640 open orders for two carrier collections (15:00 and 18:00) and four pickers. Assign
orders to waves so both collections leave full and on time.
""",
            {
                "type": "order_processing",
                "collections": ["15:00", "18:00"],
                "pickers": 4,
                "orders": {"15:00": 280, "18:00": 360},
                "expected": {"wave_1": "15:00", "wave_2": "18:00"},
            },
            minutes=25,
        ),
    ],
}

# ----------------------------------------------------------------------------- compliance

CMP_101 = {
    "code": "CMP-101",
    "title": "Anti-bribery and corruption",
    "summary": "Recognise bribery, handle gifts and hospitality correctly, and know how to raise a "
    "concern. Mandatory for all staff every two years.",
    "category": "Compliance",
    "tags": ["anti-bribery", "ethics", "compliance", "gifts"],
    "level": "beginner",
    "validity_months": 24,
    "mandatory": True,
    "modules": [
        text(
            "What bribery looks like",
            """
A bribe is **anything of value** offered, given, requested or accepted to improperly influence a
decision: cash, gifts, trips, job offers for relatives, donations, or "facilitation payments" to
speed up routine actions such as customs clearance.

Our rules:

- Gifts and hospitality up to **CHF/£ 100** may be accepted if they are occasional, open and
  recorded in the gifts register.
- Nothing may be accepted from a supplier during a tender or audit.
- Never give or accept cash or cash equivalents (vouchers, gift cards).
- Facilitation payments are forbidden, even where locally common.
""",
        ),
        quiz(
            "Anti-bribery quiz",
            [
                single(
                    "A supplier bidding in an open tender invites you to a football final. "
                    "What do you do?",
                    ["Accept and record it", "Decline politely", "Accept if your manager goes"],
                    1,
                    "Nothing is accepted from suppliers during a tender.",
                    "gifts",
                ),
                true_false(
                    "A small payment to a customs officer to speed up a routine clearance is "
                    "allowed if it is recorded.",
                    False,
                    "Facilitation payments are bribes and are forbidden.",
                    "facilitation",
                ),
                numeric(
                    "Up to what value (in CHF or £) may an occasional gift be accepted?",
                    100,
                    0,
                    "Up to 100, recorded in the gifts register.",
                    "gifts",
                ),
                multiple(
                    "Which can be a bribe?",
                    [
                        "A job offer for an official's nephew",
                        "A sandwich at a working lunch",
                        "A £200 gift card",
                        "A donation to an official's favourite charity",
                    ],
                    [0, 2, 3],
                    "Anything of value meant to influence a decision can be a bribe.",
                    "recognising",
                ),
            ],
        ),
        scenario(
            "Gift or bribe?",
            """
Decide for each situation whether you may accept, must record and accept, or must decline and
report.
""",
            {
                "type": "classification",
                "items": [
                    {
                        "id": "G-1",
                        "note": "Branded pen set (£15) from a courier at Christmas",
                        "expected": "record_and_accept",
                    },
                    {
                        "id": "G-2",
                        "note": "Weekend trip offered by a supplier under audit",
                        "expected": "decline_and_report",
                    },
                    {"id": "G-3", "note": "Coffee during a supplier meeting", "expected": "accept"},
                ],
            },
            minutes=10,
        ),
    ],
}

SEC_101 = {
    "code": "SEC-101",
    "title": "Information security essentials",
    "summary": "Spot phishing, protect your accounts with strong passwords and MFA, and handle "
    "customer and patient data safely. For every new starter and yearly after.",
    "category": "Compliance",
    "tags": ["security", "phishing", "passwords", "data-protection"],
    "level": "beginner",
    "validity_months": 12,
    "mandatory": True,
    "onboarding": True,
    "owner": "Morgan Ellis",
    "modules": [
        text(
            "Phishing",
            """
Most breaches start with an email. Warning signs:

- urgency or threats ("your account will be closed today");
- a sender address that is *almost* right (`payro11@`, `cadre-pharma.co`);
- links whose real address (hover to see it) does not match the text;
- requests for passwords, MFA codes, gift cards or bank changes.

**Never** type your password after clicking a link in an email. Open the site yourself. Report
suspicious mail with the *Report phishing* button — reporting a false alarm costs nothing.
""",
        ),
        text(
            "Passwords, MFA and devices",
            """
Use a **passphrase** of four or more random words, a different one for every system, kept in the
company password manager. Turn on multi-factor authentication everywhere it is offered.

Lock your screen (Win+L / Ctrl+Cmd+Q) whenever you leave your desk. Do not plug in USB sticks you
found. Customer and patient data stays in approved systems — never in personal email, chat apps
or private cloud drives.
""",
        ),
        quiz(
            "Security quiz",
            [
                multiple(
                    "Which are signs of phishing?",
                    [
                        "Urgent threat to close your account",
                        "A link that shows a different address on hover",
                        "An email from your manager about tomorrow's rota",
                        "A request for your MFA code",
                    ],
                    [0, 1, 3],
                    "Urgency, mismatched links and requests for codes are classic signs.",
                    "phishing",
                ),
                true_false(
                    "IT support may ask you for your MFA code to fix your account.",
                    False,
                    "Nobody legitimate ever asks for your password or MFA code.",
                    "phishing",
                ),
                single(
                    "Which password is strongest?",
                    ["Summer2024!", "correct-horse-battery-staple-lamp", "P@ssw0rd"],
                    1,
                    "Length beats complexity; a random multi-word passphrase is strongest.",
                    "passwords",
                ),
                short_text(
                    "What should you use to store your passwords?",
                    ["password manager", "the password manager", "a password manager"],
                    "Use the company password manager.",
                    "passwords",
                ),
                true_false(
                    "It is fine to forward a customer list to your personal email to work from "
                    "home.",
                    False,
                    "Personal data stays in approved systems.",
                    "data-protection",
                ),
            ],
        ),
    ],
}

SAF_101 = {
    "code": "SAF-101",
    "title": "Workplace safety and manual handling",
    "summary": "Stay safe in the warehouse and on the production floor: manual handling, forklift "
    "zones, spills, and how to report a near miss.",
    "category": "Health & Safety",
    "tags": ["safety", "manual-handling", "warehouse", "ehs"],
    "level": "beginner",
    "validity_months": 24,
    "mandatory": True,
    "onboarding": True,
    "modules": [
        text(
            "Lifting safely",
            """
Back injuries are the most common injury in our warehouses. Before lifting, **think**: how heavy
is it, how far, is the path clear, do I need help or a trolley?

1. Feet apart, one leg slightly forward.
2. Bend the knees, keep the back straight, get a firm grip.
3. Lift smoothly with the legs, load close to the waist.
4. Do not twist; turn with your feet.

Loads above **25 kg** are always a two-person lift or use lifting equipment.
""",
        ),
        text(
            "Traffic, spills and near misses",
            """
- Walk only in the green pedestrian lanes; make eye contact with forklift drivers before
  crossing.
- A spill is everyone's job: stop, guard the area, report it, and clean it if you are trained.
- A **near miss** (nobody hurt this time) is reported the same day in the safety app. Near
  misses tell us where the next accident will happen.
""",
        ),
        quiz(
            "Safety quiz",
            [
                numeric(
                    "Above what weight (kg) must a load be lifted by two people or equipment?",
                    25,
                    0,
                    "Loads over 25 kg need two people or lifting equipment.",
                    "manual-handling",
                ),
                single(
                    "While carrying a box you need to turn left. How?",
                    ["Twist at the waist", "Turn with your feet", "Throw it onto the shelf"],
                    1,
                    "Turn with your feet to avoid twisting the spine.",
                    "manual-handling",
                ),
                true_false(
                    "A near miss only needs reporting if someone was hurt.",
                    False,
                    "Near misses are reported precisely because nobody was hurt yet.",
                    "reporting",
                ),
                multiple(
                    "What do you do when you find a spill in an aisle?",
                    [
                        "Guard the area",
                        "Report it",
                        "Walk around it and carry on",
                        "Clean it if trained",
                    ],
                    [0, 1, 3],
                    "Guard, report, and clean if trained.",
                    "spills",
                ),
            ],
        ),
        assignment(
            "Safety walk",
            """
With your team lead, walk your area for 15 minutes and note two hazards and one thing done well.
Submit your notes; your team lead confirms them.
""",
            [("Two real hazards", 6), ("One positive observation", 2), ("Clear notes", 2)],
            minutes=20,
        ),
    ],
}

FIN_110 = {
    "code": "FIN-110",
    "title": "Payments, refunds and fraud signals",
    "summary": "For finance clerks: the four-eyes rule for payouts and refunds, bank-detail change "
    "fraud, and what to check before money leaves the company.",
    "category": "Finance",
    "tags": ["finance", "fraud", "payments", "refunds"],
    "level": "intermediate",
    "validity_months": 12,
    "passing_score": 90,
    "owner": "Hannah Clarke",
    "modules": [
        text(
            "The four-eyes rule",
            """
No single person can both **create and approve** a payment, refund above £500, or a change to a
seller's bank details. The system enforces it, but you must not work around it (for example by
approving with a colleague's session).

Refunds above **£2,000** also need the Finance Manager's approval and a linked order reference.
""",
        ),
        text(
            "Fraud signals",
            """
The most costly fraud in marketplaces is the **bank-detail change**: a message, often from a
lookalike address, asks to pay a seller's payout into a new account.

Red flags: urgency, a new account in a different country or name, a change requested just before
a large payout, or an email that cannot be verified in the seller portal. **Always verify by
calling the seller on the number already on file**, never one in the message.
""",
        ),
        quiz(
            "Finance controls quiz",
            [
                numeric(
                    "Above what refund amount (£) does the Finance Manager need to approve?",
                    2000,
                    0,
                    "Refunds above £2,000 need Finance Manager approval.",
                    "approvals",
                ),
                single(
                    "A seller emails new bank details and asks for today's payout to go there. "
                    "What do you do first?",
                    [
                        "Update the details; the email came from their address",
                        "Call the seller on the number already on file",
                        "Reply to the email asking for confirmation",
                    ],
                    1,
                    "Verify out of band, using contact details you already hold.",
                    "fraud",
                ),
                true_false(
                    "You may approve a payout you created yourself if the approver is on leave.",
                    False,
                    "Four-eyes means creator and approver are always different people.",
                    "approvals",
                ),
                multiple(
                    "Which are red flags for bank-detail fraud?",
                    [
                        "New account in a different name",
                        "Change requested just before a large payout",
                        "Change made by the seller in the portal with MFA",
                        "Urgent tone",
                    ],
                    [0, 1, 3],
                    "Portal changes with MFA are the normal, verified path.",
                    "fraud",
                ),
            ],
        ),
    ],
}

# ----------------------------------------------------------------------------- drafts

MKT_140 = {
    "code": "MKT-140",
    "title": "Sponsored ads for sellers",
    "summary": "Plan, launch and measure sponsored product ads without wasting budget.",
    "category": "Marketplace",
    "tags": ["ads", "marketing", "seller"],
    "level": "intermediate",
    "status": "draft",
    "owner": "Hannah Clarke",
    "modules": [
        text(
            "How sponsored ads are ranked",
            """
Ads are ranked by **bid × relevance**. A high bid on an irrelevant keyword wastes money; a
well-described listing wins cheaper clicks. Start with automatic targeting for two weeks, then
move converting search terms into a manual campaign.
""",
        ),
        text(
            "Measuring return",
            """
**ACoS** (advertising cost of sales) = ad spend / ad sales. Compare it with your margin: if your
margin is 30 %, an ACoS above 30 % loses money on every ad sale.
""",
        ),
        quiz(
            "Ads quiz",
            [
                numeric(
                    "Ad spend £150, ad sales £600. What is the ACoS in %?",
                    25,
                    0.1,
                    "150 / 600 = 25 %.",
                    "acos",
                ),
                true_false(
                    "The highest bid always wins the top ad slot.",
                    False,
                    "Relevance counts as much as the bid.",
                    "ranking",
                ),
                single(
                    "Your margin is 20 % and ACoS 35 %. What happens?",
                    ["Each ad sale loses money", "Each ad sale is profitable", "No effect"],
                    0,
                    "ACoS above margin means ad sales lose money.",
                    "acos",
                ),
            ],
        ),
    ],
}

QA_230 = {
    "code": "QA-230",
    "title": "Supplier qualification",
    "summary": "Qualify and monitor suppliers of GMP materials: questionnaires, audits, quality "
    "agreements and the approved supplier list.",
    "category": "Quality",
    "tags": ["gmp", "suppliers", "audit", "quality-agreement"],
    "level": "advanced",
    "status": "draft",
    "validity_months": 24,
    "modules": [
        text(
            "The approved supplier list",
            """
Only suppliers on the **approved supplier list** may deliver GMP materials. Approval follows a
risk assessment: critical suppliers (APIs, primary packaging) are audited on site before
approval and every three years; low-risk suppliers may be qualified by questionnaire.
""",
        ),
        text(
            "Quality agreements",
            """
A quality agreement states who does what: specifications, change notification, deviation and
complaint handling, audit rights, and subcontracting. It is signed before the first GMP delivery.
""",
        ),
        quiz(
            "Supplier quiz",
            [
                single(
                    "Which supplier needs an on-site audit before approval?",
                    ["Office stationery", "Active pharmaceutical ingredient", "Canteen"],
                    1,
                    "API suppliers are critical and audited on site.",
                    "risk",
                ),
                numeric(
                    "How often (years) are critical suppliers re-audited?",
                    3,
                    0,
                    "Every three years at least.",
                    "audits",
                ),
                true_false(
                    "A quality agreement may be signed after the first delivery if the supplier "
                    "is well known.",
                    False,
                    "It is signed before the first GMP delivery.",
                    "agreements",
                ),
            ],
        ),
    ],
}

COURSES: list[dict] = [
    GMP_101,
    GMP_102_DE,
    GMP_110,
    GMP_120,
    GMP_120_FR,
    QA_210,
    QA_220,
    MKT_101,
    MKT_120,
    MKT_130,
    CS_101,
    FUL_301,
    CMP_101,
    SEC_101,
    SAF_101,
    FIN_110,
    MKT_140,
    QA_230,
]
