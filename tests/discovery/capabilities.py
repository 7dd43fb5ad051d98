"""A registry of 30 capabilities and 30 paraphrased queries, written for the ranking tests.

Each query names the capability it should find first. Queries avoid the capabilities' own
words where a person would naturally use others, so they test meaning, not word overlap.
"""

from __future__ import annotations

CAPABILITIES: list[tuple[str, str]] = [
    (
        "legal.contract_review",
        "Review a commercial contract and flag risky clauses, missing "
        "terms and obligations that favour the other party.",
    ),
    (
        "legal.liability_assessment",
        "Decide whether a party is legally liable for damages under "
        "civil law, with a justification that cites the applicable rules.",
    ),
    (
        "legal.gdpr_compliance",
        "Check whether the processing of personal data complies with the "
        "GDPR: lawful basis, consent, retention and data subject rights.",
    ),
    (
        "tax.vat_calculation",
        "Compute value added tax on invoices, including reduced rates, "
        "reverse charge and cross-border sales within the EU.",
    ),
    (
        "tax.income_tax_estimate",
        "Estimate a person's yearly income tax from salary, deductions and allowances.",
    ),
    (
        "translation.document",
        "Translate documents between languages while preserving formatting and terminology.",
    ),
    ("translation.language_detection", "Detect which language a piece of text is written in."),
    (
        "ocr.invoice_extraction",
        "Read scanned or photographed invoices and extract the supplier, "
        "totals, dates and line items as structured fields.",
    ),
    ("ocr.handwriting", "Recognize handwritten notes in images and convert them to typed text."),
    ("embeddings.text", "Turn sentences into dense vectors for semantic search and clustering."),
    (
        "summarization.document",
        "Condense long reports and articles into a short summary of the key points.",
    ),
    (
        "summarization.meeting_notes",
        "Turn a meeting transcript into minutes with decisions and action items.",
    ),
    (
        "scheduling.calendar_booking",
        "Find a free slot in several people's calendars and book a meeting.",
    ),
    (
        "scheduling.shift_planning",
        "Plan employee work shifts over a week, respecting availability and labour rules.",
    ),
    ("payments.card_charge", "Charge a customer's credit or debit card and capture the payment."),
    ("payments.refund", "Refund a previous payment to the customer, fully or partially."),
    (
        "payments.fraud_screening",
        "Score a transaction for the risk of fraud before it is accepted.",
    ),
    ("speech.transcription", "Transcribe recorded audio of speech into written text."),
    ("speech.synthesis", "Read text aloud by generating natural sounding speech audio."),
    (
        "vision.image_classification",
        "Label what an image shows, such as animals, vehicles or objects.",
    ),
    (
        "weather.forecast",
        "Give the weather forecast for a location: temperature, rain and wind for the coming days.",
    ),
    ("geo.route_planning", "Compute the fastest driving or walking route between two addresses."),
    ("email.spam_filter", "Classify incoming email messages as spam or legitimate."),
    (
        "sentiment.analysis",
        "Tell whether a review or message expresses a positive, negative or neutral opinion.",
    ),
    ("code.review", "Review source code changes for bugs, style problems and security issues."),
    (
        "sql.query_generation",
        "Write a SQL query from a question asked in plain English about a database.",
    ),
    ("hr.resume_screening", "Rank job applicants by how well their CV matches a job posting."),
    (
        "medical.drug_interaction",
        "Check whether a combination of medications has dangerous interactions.",
    ),
    (
        "finance.currency_conversion",
        "Convert an amount of money between currencies at current exchange rates.",
    ),
    (
        "shipping.package_tracking",
        "Report where a parcel is and when it will be delivered, from its tracking number.",
    ),
]

QUERIES: list[tuple[str, str]] = [
    ("Are there any dangerous terms hidden in this supplier agreement?", "legal.contract_review"),
    (
        "Does the landlord have to pay for the harm caused by the leaking roof?",
        "legal.liability_assessment",
    ),
    (
        "Are we allowed to keep our customers' email addresses for ten years under European "
        "privacy rules?",
        "legal.gdpr_compliance",
    ),
    ("How much sales tax do I owe on this bill to a buyer in Spain?", "tax.vat_calculation"),
    ("What will I pay the government this year on my wages?", "tax.income_tax_estimate"),
    ("Put this German brochure into English, keeping the layout.", "translation.document"),
    ("Which tongue is this paragraph in?", "translation.language_detection"),
    (
        "Pull the amounts and vendor name out of this photo of a receipt from a supplier.",
        "ocr.invoice_extraction",
    ),
    ("Digitize my scribbled paper notes from a picture.", "ocr.handwriting"),
    ("I need numeric representations of sentences so I can find similar ones.", "embeddings.text"),
    ("Give me the gist of this 80 page white paper.", "summarization.document"),
    (
        "Write up what was agreed and who does what from the call recording's text.",
        "summarization.meeting_notes",
    ),
    (
        "Set up an appointment when Anna, Ben and I are all available.",
        "scheduling.calendar_booking",
    ),
    ("Make the rota for the nurses for next week.", "scheduling.shift_planning"),
    ("Take the money from the shopper's Visa for order 1234.", "payments.card_charge"),
    ("Give the client back the money they paid for the broken item.", "payments.refund"),
    ("Is this purchase likely to be done with a stolen card?", "payments.fraud_screening"),
    ("Turn this podcast episode into text.", "speech.transcription"),
    ("Make an audio file of a voice reading this article.", "speech.synthesis"),
    ("Is there a cat or a dog in this picture?", "vision.image_classification"),
    ("Will I need an umbrella in Paris tomorrow?", "weather.forecast"),
    ("What is the quickest way to drive from the airport to the hotel?", "geo.route_planning"),
    ("Catch the junk mail before it reaches my inbox.", "email.spam_filter"),
    ("Are our customers happy or angry in these product comments?", "sentiment.analysis"),
    ("Look over my pull request for mistakes and vulnerabilities.", "code.review"),
    ("Show me how to ask the database for last month's top ten customers.", "sql.query_generation"),
    ("Which candidates fit the backend engineer opening best?", "hr.resume_screening"),
    ("Is it safe to take ibuprofen together with blood thinners?", "medical.drug_interaction"),
    ("How many yen is 250 dollars today?", "finance.currency_conversion"),
    ("Where is my parcel and when will it arrive?", "shipping.package_tracking"),
]
