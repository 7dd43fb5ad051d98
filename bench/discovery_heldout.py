"""A held-out registry of 40 capabilities (finance, devops, healthcare, documents, legal, geo)
and 60 requests for it, written for ``bench.discovery_eval`` and never used to tune ranking.

Requests are phrased as people ask: questions, orders, jargon, typos, other words than the
description's, or only the inputs they have and the output they want.
"""

from __future__ import annotations

CAPABILITIES: list[tuple[str, str]] = [
    # Finance.
    ("fin.fx_rate", "Look up the exchange rate between two currencies on a given date."),
    (
        "fin.loan_amortization",
        "Build the repayment schedule of a fixed-rate loan: interest and principal per period.",
    ),
    ("fin.invoice_extract", "Extract supplier, totals, tax and line items from a scanned invoice."),
    ("fin.fraud_score", "Score a card transaction for the likelihood that it is fraudulent."),
    ("fin.portfolio_var", "Estimate the value at risk of an investment portfolio over a horizon."),
    (
        "fin.bank_reconcile",
        "Match bank statement lines with ledger entries and list what is unmatched.",
    ),
    ("fin.stock_quote", "Latest trading price and volume of a listed company's shares."),
    # DevOps.
    ("ops.deploy_service", "Roll out a new version of a service to a Kubernetes cluster."),
    ("ops.rollback_release", "Return a service to its previous release after a failed deployment."),
    ("ops.tail_logs", "Stream the latest log lines of a container."),
    ("ops.cert_expiry", "Report when the TLS certificates of a list of hosts expire."),
    ("ops.scale_replicas", "Change the number of running instances of a deployment."),
    ("ops.dns_lookup", "Resolve a domain name to its DNS records."),
    ("ops.cve_scan", "Scan a container image for packages with known vulnerabilities."),
    # Healthcare.
    (
        "health.drug_interactions",
        "Check a list of medications for harmful interactions between them.",
    ),
    ("health.icd10_code", "Find the ICD-10 diagnosis code for a clinical description."),
    ("health.bmi", "Compute body mass index from weight and height."),
    ("health.appointment_book", "Book a patient appointment with a clinician at a free slot."),
    ("health.lab_flag", "Flag laboratory results that fall outside their reference ranges."),
    (
        "health.discharge_summary",
        "Draft a hospital discharge summary from the stay's clinical notes.",
    ),
    ("health.dosage_pediatric", "Compute a child's medication dose from body weight and age."),
    # Documents.
    ("doc.pdf_to_text", "Extract the text of a PDF document, page by page."),
    ("doc.ocr_image", "Recognize printed or handwritten text in a photo or scan."),
    ("doc.summarize", "Write a short summary of a long document."),
    ("doc.translate", "Translate a document into another language, keeping its layout."),
    ("doc.redact_pii", "Black out names, addresses and other personal details in a document."),
    ("doc.compare_versions", "Show the differences between two versions of a document."),
    (
        "doc.esign_request",
        "Send a document to people for electronic signature and track who signed.",
    ),
    # Legal.
    ("legal.nda_draft", "Draft a mutual non-disclosure agreement from the parties and the term."),
    ("legal.case_law_search", "Find court decisions relevant to a legal question."),
    ("legal.trademark_check", "Check whether a brand name is already registered as a trademark."),
    (
        "legal.deadline_calc",
        "Compute procedural deadlines from a filing date and the court's rules.",
    ),
    ("legal.clause_extract", "Pull termination, liability and renewal clauses out of a contract."),
    ("legal.sanctions_screen", "Screen a person or company against international sanctions lists."),
    # Geo.
    ("geo.geocode", "Turn a postal address into latitude and longitude."),
    ("geo.reverse_geocode", "Turn coordinates into the nearest street address."),
    ("geo.route_plan", "Plan a driving route between places with its distance and travel time."),
    ("geo.distance", "Great-circle distance between two points on Earth."),
    ("geo.timezone", "Find the time zone of a location."),
    ("geo.elevation", "Height above sea level of a point."),
]

QUERIES: list[tuple[str, str]] = [
    # Finance.
    ("how many yen is a euro worth today?", "fin.fx_rate"),
    ("convert USD to GBP at last friday's rate", "fin.fx_rate"),
    (
        "monthly payments on a 30 year mortgage, split into interest vs principal",
        "fin.loan_amortization",
    ),
    (
        "I have a photo of a bill from a vendor, get the amount due and VAT out of it",
        "fin.invoice_extract",
    ),
    ("is this credit card purchase suspicious?", "fin.fraud_score"),
    ("VaR at 99% for my holdings over 10 days", "fin.portfolio_var"),
    ("tie out the bank feed against the general ledger", "fin.bank_reconcile"),
    ("whats AAPL trading at", "fin.stock_quote"),
    # DevOps.
    ("ship v2.3 of the payments api to prod", "ops.deploy_service"),
    ("the release broke checkout, go back to the last good version", "ops.rollback_release"),
    ("show me what the pod is printing right now", "ops.tail_logs"),
    ("which of our ssl certs are about to run out?", "ops.cert_expiry"),
    ("bump the web tier to 6 pods", "ops.scale_replicas"),
    ("what IP does example.org point to", "ops.dns_lookup"),
    ("does our docker image have any CVEs", "ops.cve_scan"),
    ("autoscale manually: fewer instances overnight", "ops.scale_replicas"),
    ("kubectl logs -f equivalent", "ops.tail_logs"),
    # Healthcare.
    ("can I take ibuprofen together with warfarin?", "health.drug_interactions"),
    ("billing code for type 2 diabetes without complications", "health.icd10_code"),
    ("is 82 kg at 1.75 m overweight", "health.bmi"),
    ("schedule mrs lopez to see dr chen next week", "health.appointment_book"),
    ("which of these blood test values are abnormal", "health.lab_flag"),
    (
        "write up the patient's hospital stay for their GP when they go home",
        "health.discharge_summary",
    ),
    ("amoxicillin amount for a 14 kg toddler", "health.dosage_pediatric"),
    ("polypharmacy safety check", "health.drug_interactions"),
    ("weight + height -> bmi", "health.bmi"),
    # Documents.
    ("get the words out of this pdf", "doc.pdf_to_text"),
    ("read the handwriting on this scanned form", "doc.ocr_image"),
    ("tl;dr of this 80 page report", "doc.summarize"),
    ("put this brochure into spanish", "doc.translate"),
    ("anonymise the witness statement before we publish it", "doc.redact_pii"),
    ("what changed between draft 3 and draft 4", "doc.compare_versions"),
    ("get the contract signed by both parties online", "doc.esign_request"),
    ("summarise plz, too long didnt read", "doc.summarize"),
    ("redline two word files", "doc.compare_versions"),
    ("image in, text out", "doc.ocr_image"),
    # Legal.
    (
        "we need a confidentiality agreement before sharing the roadmap with a partner",
        "legal.nda_draft",
    ),
    ("precedents on landlord liability for mold", "legal.case_law_search"),
    ("can we call our product 'Nimbus' or is that name taken?", "legal.trademark_check"),
    ("when is our appeal due if the judgment was served on 3 March", "legal.deadline_calc"),
    ("find the indemnity and auto-renewal terms in this agreement", "legal.clause_extract"),
    ("KYC: is this counterparty on the OFAC list?", "legal.sanctions_screen"),
    ("prepare an NDA", "legal.nda_draft"),
    ("rulings on software patent eligibilty", "legal.case_law_search"),
    # Geo.
    ("coordinates of 10 Downing Street", "geo.geocode"),
    ("what street is at 48.8584, 2.2945?", "geo.reverse_geocode"),
    ("best way to drive from Lyon to Geneva and how long it takes", "geo.route_plan"),
    ("how far apart are Sydney and Auckland as the crow flies", "geo.distance"),
    ("what's the local time offset in Kathmandu", "geo.timezone"),
    ("altitude of Mont Blanc summit", "geo.elevation"),
    ("address -> lat/lng", "geo.geocode"),
    ("lat/lon to address", "geo.reverse_geocode"),
    ("directions with ETA", "geo.route_plan"),
    ("haversine between two gps fixes", "geo.distance"),
    # Inputs and outputs only, or jargon.
    ("loan amount, rate, term -> payment table", "fin.loan_amortization"),
    ("image tag -> list of vulnerable packages", "ops.cve_scan"),
    ("hostnames -> expiry dates", "ops.cert_expiry"),
    ("clinical note -> diagnosis code", "health.icd10_code"),
    ("brand name -> registered or not", "legal.trademark_check"),
    ("ticker symbol -> last price", "fin.stock_quote"),
]
