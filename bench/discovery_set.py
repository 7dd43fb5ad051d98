"""A registry that mixes native capabilities, MCP tools and A2A skills, and 48 paraphrased
requests for it, written for ``bench.discovery_eval``.

Each request names the capability a person asking it wants. Requests avoid the capabilities'
own words where a person would naturally use others: they test meaning, not word overlap.
"""

from __future__ import annotations

CAPABILITIES: list[tuple[str, str]] = [
    # Native MODX agents.
    ("sara.parse_case", "Translate a SARA tax case file into ontology facts and its question."),
    (
        "legal.validate_facts",
        "Check case facts against the tax ontology: unknown classes, "
        "properties, domains, ranges and datatypes.",
    ),
    (
        "legal.infer",
        "Run the formalized US tax statutes in Prolog and return the answer with a "
        "proof citing subsections.",
    ),
    (
        "legal.entail",
        "Decide whether a statutory clause applies to a case: entailment or "
        "contradiction, with the proof.",
    ),
    (
        "legal.explain",
        "Turn a proof tree into a readable explanation with amounts and the provisions applied.",
    ),
    ("model.embed", "Sentence embeddings: dense vectors of texts for semantic search."),
    ("model.chat", "Chat with a large language model through an OpenAI-compatible gateway."),
    # MCP tools.
    ("mcp.calc.add", "Add two integers and return their sum."),
    ("mcp.calc.convert_units", "Convert a quantity between units of length, mass or temperature."),
    ("mcp.files.read_file", "Read the contents of a file from the workspace."),
    ("mcp.files.write_file", "Write text to a file in the workspace, creating it if needed."),
    ("mcp.files.list_directory", "List the files and folders inside a directory."),
    ("mcp.web.fetch", "Download a web page by URL and return its text."),
    ("mcp.web.search", "Search the web and return the top results with titles and links."),
    ("mcp.github.create_issue", "Open a new issue in a GitHub repository."),
    ("mcp.github.list_pull_requests", "List the open pull requests of a repository."),
    ("mcp.sql.query", "Run a read-only SQL query against the analytics database."),
    ("mcp.sql.describe_table", "Show the columns and types of a database table."),
    ("mcp.slack.post_message", "Post a message to a Slack channel."),
    (
        "mcp.calendar.create_event",
        "Create an event in a calendar with a time, place and attendees.",
    ),
    ("mcp.maps.directions", "Driving, walking or transit directions between two places."),
    ("mcp.weather.forecast", "The weather forecast for a city for the next days."),
    ("mcp.pdf.extract_text", "Extract the text of a PDF document, page by page."),
    ("mcp.image.resize", "Resize or crop an image to given dimensions."),
    # A2A skills.
    ("a2a.travel.book_flight", "Find and book a flight between two airports on given dates."),
    ("a2a.travel.book_hotel", "Reserve a hotel room in a city for given nights."),
    ("a2a.hr.screen_resumes", "Rank job applicants by how well their CVs match a job posting."),
    (
        "a2a.hr.plan_shifts",
        "Plan employee shifts over a week within availability and labour rules.",
    ),
    ("a2a.support.triage_ticket", "Classify a customer support ticket by topic and urgency."),
    ("a2a.finance.currency_exchange", "Convert money between currencies at today's rates."),
    ("a2a.finance.detect_fraud", "Score a card transaction for the risk of fraud."),
    ("a2a.finance.refund_payment", "Refund a payment to a customer, fully or partially."),
    ("a2a.legal.contract_review", "Review a commercial contract and flag risky clauses."),
    ("a2a.legal.gdpr_check", "Check that processing of personal data complies with the GDPR."),
    ("a2a.docs.summarize", "Condense a long report into a short summary of its key points."),
    ("a2a.docs.translate", "Translate a document into another language, keeping its layout."),
    ("a2a.speech.transcribe", "Transcribe recorded speech into written text."),
    ("a2a.speech.synthesize", "Read a text aloud as natural sounding speech audio."),
    ("a2a.vision.classify_image", "Label what an image shows: animals, vehicles, objects."),
    ("a2a.code.review", "Review a code change for bugs, style problems and security issues."),
    (
        "a2a.medical.drug_interactions",
        "Check a combination of medications for dangerous interactions.",
    ),
    (
        "a2a.shipping.track_parcel",
        "Where a parcel is and when it will arrive, from its tracking number.",
    ),
    ("a2a.marketing.write_ad", "Write advertising copy for a product and audience."),
    ("a2a.sales.forecast_revenue", "Forecast next quarter's revenue from past sales."),
]

QUERIES: list[tuple[str, str]] = [
    ("What is seventeen plus twenty-five?", "mcp.calc.add"),
    ("How many kilograms is 12 pounds?", "mcp.calc.convert_units"),
    ("Show me what's inside notes.txt in my project.", "mcp.files.read_file"),
    ("Save this paragraph to report.md.", "mcp.files.write_file"),
    ("What's in the src folder?", "mcp.files.list_directory"),
    ("Grab the article at this link and give me its words.", "mcp.web.fetch"),
    ("Look up recent news about electric cars on the internet.", "mcp.web.search"),
    ("File a bug about the login crash in our repo.", "mcp.github.create_issue"),
    ("Which code changes are waiting to be merged?", "mcp.github.list_pull_requests"),
    ("How many orders did we get last month, from the warehouse data?", "mcp.sql.query"),
    ("What fields does the customers table have?", "mcp.sql.describe_table"),
    ("Tell the team channel that the release is out.", "mcp.slack.post_message"),
    ("Put a meeting with Ana on Friday at 3 in my agenda.", "mcp.calendar.create_event"),
    ("How do I get from the station to the museum on foot?", "mcp.maps.directions"),
    ("Will it rain in Lisbon this weekend?", "mcp.weather.forecast"),
    ("Get the words out of this scanned annual report PDF.", "mcp.pdf.extract_text"),
    ("Make this photo 800 pixels wide.", "mcp.image.resize"),
    ("Get me a plane ticket from Boston to Denver next Tuesday.", "a2a.travel.book_flight"),
    ("I need somewhere to sleep in Rome for three nights.", "a2a.travel.book_hotel"),
    ("Which candidates suit the data engineer opening?", "a2a.hr.screen_resumes"),
    ("Make the nurses' rota for next week.", "a2a.hr.plan_shifts"),
    ("Is this customer complaint urgent, and what is it about?", "a2a.support.triage_ticket"),
    ("How many euros is 300 dollars today?", "a2a.finance.currency_exchange"),
    ("Could this purchase have been made with a stolen card?", "a2a.finance.detect_fraud"),
    ("Give the shopper back the money for the broken kettle.", "a2a.finance.refund_payment"),
    ("Are there any dangerous terms in this supplier agreement?", "a2a.legal.contract_review"),
    (
        "May we keep our users' email addresses for ten years under EU privacy law?",
        "a2a.legal.gdpr_check",
    ),
    ("Give me the gist of this 80 page white paper.", "a2a.docs.summarize"),
    ("Put this German brochure into English.", "a2a.docs.translate"),
    ("Turn this podcast episode into text.", "a2a.speech.transcribe"),
    ("Make an audio file of a voice reading this article.", "a2a.speech.synthesize"),
    ("Is there a cat or a dog in this picture?", "a2a.vision.classify_image"),
    ("Look over my pull request for mistakes and vulnerabilities.", "a2a.code.review"),
    ("Is it safe to take ibuprofen with blood thinners?", "a2a.medical.drug_interactions"),
    ("Where is my package and when does it get here?", "a2a.shipping.track_parcel"),
    ("Come up with a catchy slogan for our new running shoes.", "a2a.marketing.write_ad"),
    ("How much will we sell in the next three months?", "a2a.sales.forecast_revenue"),
    ("Read this tax case file and turn it into structured facts.", "sara.parse_case"),
    (
        "Are these facts consistent with the ontology's classes and properties?",
        "legal.validate_facts",
    ),
    ("How much federal income tax does Alice owe for 2017, with the reasoning?", "legal.infer"),
    ("Does section 152 make Bob a dependent of Carol? Yes or no, with proof.", "legal.entail"),
    ("Explain this proof to me in plain English.", "legal.explain"),
    ("Give me numeric representations of these sentences for similarity search.", "model.embed"),
    ("Ask an LLM to draft a reply to this message.", "model.chat"),
    ("What is the total of 1200 and 345?", "mcp.calc.add"),
    ("Write the results into output.csv.", "mcp.files.write_file"),
    ("Book two rooms in a hotel near the Paris conference venue.", "a2a.travel.book_hotel"),
    ("Convert 5 miles into kilometres.", "mcp.calc.convert_units"),
]
