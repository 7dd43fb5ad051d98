"""The tax ontology's vocabulary as plain data: the single source that ``tax_ontology`` builds from.

Three groups of names live here:

* the **case vocabulary**: event classes (one per SARA unary predicate, e.g. ``payment_/1`` ->
  ``Payment``) and roles (one per binary predicate, e.g. ``agent_/2`` -> ``agent``). Every role is
  split in two because OWL keeps individuals and literals apart while SARA mixes atoms and strings
  in the same argument: ``agent`` points to an individual (a Prolog atom) and ``agentText`` holds a
  string (a Prolog string such as ``"johns hopkins hospital"``). ``start``/``end`` are dates and
  ``amount`` is an integer.
* the **statutory concepts** of the nine sections, each with the subsection that defines it.
* a few **reasoning artifacts** (``CaseFacts``, ``TaxAnswer``...) that describe what the pipeline
  produces.

Nothing here states a tax rule: no thresholds, rates or conditions. Those belong to the Prolog
formalization in ``ontology/statutes/``.
"""

from __future__ import annotations

from dataclasses import dataclass

IRI_BASE = "https://modx.dev/ontology/tax#"
"""Namespace of every class and property; an identifier, not a URL that resolves."""

ONTOLOGY_IRI = "https://modx.dev/ontology/tax"


@dataclass(frozen=True)
class ClassSpec:
    """One OWL class: local name, parent, gloss, and either a SARA predicate or a citation."""

    name: str
    parent: str | None
    comment: str
    prolog: str | None = None
    defined_in: str | None = None


@dataclass(frozen=True)
class RoleSpec:
    """One SARA binary predicate; ``kind`` is ``object`` (split into object + Text), ``date`` or
    ``integer``."""

    name: str
    kind: str
    comment: str
    domain: str | None = "Event"


def _event(name: str, parent: str, prolog: str, comment: str) -> ClassSpec:
    return ClassSpec(name, parent, comment, prolog=prolog)


def _concept(name: str, parent: str, defined_in: str, comment: str) -> ClassSpec:
    return ClassSpec(name, parent, comment, defined_in=defined_in)


# Upper classes. Event and Entity are disjoint: a SARA atom either names a situation (typed by a
# unary predicate, or the subject of a role) or a participant in one.
TOP_CLASSES: tuple[ClassSpec, ...] = (
    ClassSpec("CaseVocabulary", None, "Classes whose individuals appear in case facts."),
    ClassSpec("Event", "CaseVocabulary", "A situation described by roles (neo-Davidsonian)."),
    ClassSpec("Entity", "CaseVocabulary", "A participant in events: person, organization, place."),
    ClassSpec("Person", "Entity", "A human being; inferred from roles that only people fill."),
    ClassSpec("Relationship", "Event", "A relation between two participants."),
    ClassSpec(
        "FamilyRelationship",
        "Relationship",
        "Kinship: the agent is the named relative of the patient.",
    ),
    ClassSpec("LifeEvent", "Event", "A dated event in a person's life."),
    ClassSpec("PersonalCondition", "Event", "A state of a person over a period."),
    ClassSpec("Transaction", "Event", "A transfer or accrual of money."),
    ClassSpec("WorkEvent", "Event", "Work performed, or its end."),
    ClassSpec("OrganizationDesignation", "Event", "States what kind of body the agent is."),
    ClassSpec("Arrangement", "Event", "A plan or agreement."),
    ClassSpec("TaxFiling", "Event", "A tax return filed by the agents."),
    ClassSpec(
        "Designation", "Event", "States what the agent is (a country, a location, a means...)."
    ),
)

# One class per unary predicate seen in the 256 training cases, plus the few the dataset README
# lists that the training cases do not use (marked "README").
EVENT_CLASSES: tuple[ClassSpec, ...] = (
    _event("Son", "FamilyRelationship", "son_", "The agent is a son of the patient."),
    _event(
        "Daughter", "FamilyRelationship", "daughter_", "The agent is a daughter of the patient."
    ),
    _event("Father", "FamilyRelationship", "father_", "The agent is the father of the patient."),
    _event("Mother", "FamilyRelationship", "mother_", "The agent is the mother of the patient."),
    _event("Brother", "FamilyRelationship", "brother_", "The agent is a brother of the patient."),
    _event("Sister", "FamilyRelationship", "sister_", "The agent is a sister of the patient."),
    _event("Sibling", "FamilyRelationship", "sibling_", "The agent is a sibling of the patient."),
    _event("Marriage", "Relationship", "marriage_", "The agents are married to each other."),
    _event(
        "LegalSeparation",
        "Relationship",
        "legal_separation_",
        "The patient (a marriage) is ended by the agent (a decree).",
    ),
    _event("Birth", "LifeEvent", "birth_", "The agent is born on the start date."),
    _event("Death", "LifeEvent", "death_", "The agent dies on the start date."),
    _event("Blindness", "PersonalCondition", "blindness_", "The agent is blind."),
    _event("Disability", "PersonalCondition", "disability_", "The agent is disabled."),
    _event(
        "Citizenship",
        "PersonalCondition",
        "citizenship_",
        "The agent is a citizen of the patient (a country).",
    ),
    _event(
        "NonresidentAlien",
        "PersonalCondition",
        "nonresident_alien_",
        "The agent is a nonresident alien.",
    ),
    _event(
        "Residence", "PersonalCondition", "residence_", "The agent lives in the patient (a home)."
    ),
    _event("Migration", "PersonalCondition", "migration_", "The agent moves (README)."),
    _event(
        "Incarceration",
        "PersonalCondition",
        "incarceration_",
        "The agent is committed to the patient (an institution).",
    ),
    _event(
        "MedicalPatient",
        "PersonalCondition",
        "medical_patient_",
        "The agent is a patient of the patient (an institution).",
    ),
    _event(
        "Enrollment",
        "PersonalCondition",
        "enrollment_",
        "The agent is enrolled at the patient (a school).",
    ),
    _event(
        "AttendingClasses",
        "PersonalCondition",
        "attending_classes_",
        "The agent regularly attends classes.",
    ),
    _event("Retirement", "PersonalCondition", "retirement_", "The agent retires."),
    _event(
        "Payment",
        "Transaction",
        "payment_",
        "The agent pays the amount to the patient, for the purpose.",
    ),
    _event("Income", "Transaction", "income_", "The agent receives income of the amount."),
    _event(
        "Deduction", "Transaction", "deduction_", "The agent is allowed a deduction of the amount."
    ),
    _event(
        "ItemizedDeductionsClaim",
        "Transaction",
        "itemized_deductions_",
        "The agent itemizes deductions (README).",
    ),
    _event("Service", "WorkEvent", "service_", "The agent works for the patient."),
    _event(
        "AgriculturalService",
        "Service",
        "agricultural_service_",
        "Service that is agricultural labor (README).",
    ),
    _event(
        "Termination",
        "WorkEvent",
        "termination_",
        "The agent ends the patient (a service), for the reason.",
    ),
    _event(
        "AmericanEmployer",
        "OrganizationDesignation",
        "american_employer_",
        "The agent is an American employer.",
    ),
    _event(
        "Business", "OrganizationDesignation", "business_", "The agent runs a business of the type."
    ),
    _event(
        "BusinessTrust",
        "OrganizationDesignation",
        "business_trust_",
        "The agent is a business trust.",
    ),
    _event(
        "EducationalInstitution",
        "OrganizationDesignation",
        "educational_institution_",
        "The agent is an educational institution.",
    ),
    _event(
        "NursesTrainingSchool",
        "EducationalInstitution",
        "nurses_training_school_",
        "The agent is a nurses' training school (README).",
    ),
    _event("Hospital", "OrganizationDesignation", "hospital_", "The agent is a hospital."),
    _event(
        "MedicalInstitution",
        "OrganizationDesignation",
        "medical_institution_",
        "The agent is a medical institution.",
    ),
    _event(
        "PenalInstitution",
        "OrganizationDesignation",
        "penal_institution_",
        "The agent is a penal institution.",
    ),
    _event(
        "InternationalOrganization",
        "OrganizationDesignation",
        "international_organization_",
        "The agent is an international organization.",
    ),
    _event(
        "Plan", "Arrangement", "plan_", "A plan of the agent (an employer) for its beneficiaries."
    ),
    _event(
        "UnemploymentCompensationAgreement",
        "Arrangement",
        "unemployment_compensation_agreement_",
        "The agent (a country) has an unemployment compensation agreement (README).",
    ),
    _event(
        "JointReturn",
        "TaxFiling",
        "joint_return_",
        "The agents file a single joint return for the period.",
    ),
    _event("Estate", "OrganizationDesignation", "estate_", "The agent is an estate (README)."),
    # Names SARA also uses as roles; as unary predicates they designate the agent (README).
    _event("Beneficiary", "Designation", "beneficiary_", "The agent is a beneficiary."),
    _event("Country", "Designation", "country_", "The agent is a country."),
    _event("Destination", "Designation", "destination_", "The agent is a destination."),
    _event("Location", "Designation", "location_", "The agent is a location."),
    _event("Means", "Designation", "means_", "The agent is a means of payment."),
    _event("Purpose", "Designation", "purpose_", "The agent is a purpose."),
    _event("Reason", "Designation", "reason_", "The agent is a reason."),
    _event("Type", "Designation", "type_", "The agent is a type."),
)

ROLES: tuple[RoleSpec, ...] = (
    RoleSpec("agent", "object", "The main participant: payer, worker, spouse, relative."),
    RoleSpec("patient", "object", "The participant acted on: payee, employer, home, country."),
    RoleSpec("beneficiary", "object", "Who benefits from a payment or plan."),
    RoleSpec(
        "purpose",
        "object",
        "What a payment or service is for. For a service, its kind in the statute's words when"
        ' the text describes one: "agricultural labor" (farm work, harvesting, ...) or "domestic'
        ' service" (housework in a private home), which §3306 tests for.',
    ),
    RoleSpec("location", "object", "Where the event takes place."),
    RoleSpec("means", "object", "How a payment is made (cash, goods, a plan)."),
    RoleSpec("reason", "object", "Why the event happens."),
    RoleSpec("type", "object", "The kind of business or service."),
    RoleSpec("destination", "object", "Where a migration leads."),
    RoleSpec("country", "object", "The country of a place.", domain=None),
    RoleSpec("amount", "integer", "Dollars, or percent for the share of household costs."),
    RoleSpec("start", "date", "First day of the event (YYYY-MM-DD)."),
    RoleSpec("end", "date", "Last day of the event (YYYY-MM-DD)."),
)

TEXT_SUFFIX = "Text"
"""``agentText`` etc.: the role given as a Prolog string rather than an atom."""

# Roles only a person can fill. The ontology states them as `only` restrictions, so an untyped
# filler is entailed to be a Person; the SARA translation applies exactly these.
PERSON_ROLES: tuple[tuple[str, str], ...] = (
    *(
        (kin, role)
        for kin in ("Son", "Daughter", "Father", "Mother", "Brother", "Sister", "Sibling")
        for role in ("agent", "patient")
    ),
    ("Marriage", "agent"),
    ("Birth", "agent"),
    ("Death", "agent"),
    ("Blindness", "agent"),
    ("Disability", "agent"),
    ("Citizenship", "agent"),
    ("NonresidentAlien", "agent"),
    ("Residence", "agent"),
    ("Migration", "agent"),
    ("Incarceration", "agent"),
    ("MedicalPatient", "agent"),
    ("Enrollment", "agent"),
    ("AttendingClasses", "agent"),
    ("Retirement", "agent"),
    ("JointReturn", "agent"),
)

# Events that happen once in a life: their agent cannot have two different start dates for them.
ONCE_IN_A_LIFE: tuple[str, ...] = ("Birth", "Death")

STATUTORY_CLASSES: tuple[ClassSpec, ...] = (
    ClassSpec("StatutoryConcept", None, "A term defined or used by the nine statute sections."),
    ClassSpec("TaxpayerStatus", "StatutoryConcept", "A status a person has for a taxable year."),
    ClassSpec("StatutoryAmount", "StatutoryConcept", "A dollar amount computed under a section."),
    ClassSpec(
        "EmploymentConcept",
        "StatutoryConcept",
        "A term of the federal unemployment tax (chapter 23).",
    ),
    ClassSpec("RateSchedule", "StatutoryConcept", "A table of tax rates on taxable income."),
    _concept(
        "MarriedIndividual",
        "TaxpayerStatus",
        "§7703(a)",
        "Married at the close of the year (or at the spouse's death), not legally separated.",
    ),
    _concept(
        "UnmarriedIndividual",
        "TaxpayerStatus",
        "§1(c)",
        "Not married (§7703) and neither surviving spouse nor head of household.",
    ),
    _concept(
        "MarriedLivingApart",
        "TaxpayerStatus",
        "§7703(b)",
        "Married person filing separately who maintains a home for a child apart from the "
        "spouse; not considered married.",
    ),
    _concept(
        "SurvivingSpouse",
        "TaxpayerStatus",
        "§2(a)",
        "Taxpayer whose spouse died in the two preceding years and who keeps a home for a "
        "dependent child.",
    ),
    _concept(
        "HeadOfHousehold",
        "TaxpayerStatus",
        "§2(b)",
        "Unmarried, not a surviving spouse, keeping a home for a qualifying person.",
    ),
    _concept(
        "Dependent",
        "TaxpayerStatus",
        "§152(a)",
        "A qualifying child or qualifying relative of the taxpayer.",
    ),
    _concept(
        "QualifyingChild",
        "Dependent",
        "§152(c)",
        "Related child or sibling, same abode over half the year, meets the age test.",
    ),
    _concept(
        "QualifyingRelative",
        "Dependent",
        "§152(d)",
        "Related person with no income who is nobody's qualifying child.",
    ),
    _concept(
        "NonresidentAlienIndividual",
        "TaxpayerStatus",
        "§63(c)(6)(B)",
        "An individual not eligible for the standard deduction.",
    ),
    _concept(
        "JointReturnFiler",
        "TaxpayerStatus",
        "§1(a)(1)",
        "Married individual making a single return jointly with the spouse.",
    ),
    _concept(
        "MarriedFilingSeparately",
        "TaxpayerStatus",
        "§1(d)",
        "Married individual who does not make a joint return.",
    ),
    _concept(
        "GrossIncome",
        "StatutoryAmount",
        "§63(a)",
        "All income from whatever source (defined in §61, outside this excerpt).",
    ),
    _concept(
        "AdjustedGrossIncome",
        "StatutoryAmount",
        "§63(b)",
        "Gross income minus above-the-line deductions (§62, outside this excerpt).",
    ),
    _concept(
        "TaxableIncome",
        "StatutoryAmount",
        "§63(a)",
        "Gross income minus allowed deductions; §63(b) for non-itemizers.",
    ),
    _concept(
        "StandardDeduction",
        "StatutoryAmount",
        "§63(c)(1)",
        "Sum of the basic and the additional standard deduction.",
    ),
    _concept(
        "BasicStandardDeduction",
        "StandardDeduction",
        "§63(c)(2)",
        "Amount set by filing status; limited for dependents by §63(c)(5).",
    ),
    _concept(
        "AdditionalStandardDeduction",
        "StandardDeduction",
        "§63(c)(3)",
        "Sum of the additional amounts for the aged and blind under §63(f).",
    ),
    _concept(
        "AgedOrBlindAmount",
        "AdditionalStandardDeduction",
        "§63(f)",
        "Additional amount for a taxpayer or spouse aged 65 or blind.",
    ),
    _concept(
        "ItemizedDeductions",
        "StatutoryAmount",
        "§63(d)",
        "Deductions other than those for AGI and personal exemptions.",
    ),
    _concept(
        "ItemizedDeductionReduction",
        "StatutoryAmount",
        "§68(a)",
        "Overall limitation: reduction of itemized deductions above the applicable amount.",
    ),
    _concept(
        "ApplicableAmount",
        "StatutoryAmount",
        "§68(b)",
        "AGI threshold of the itemized-deduction limit and the exemption phase-out.",
    ),
    _concept(
        "PersonalExemption",
        "StatutoryAmount",
        "§151(a)",
        "Deduction for exemptions of the taxpayer, spouse and dependents.",
    ),
    _concept(
        "TaxpayerAndSpouseExemption",
        "PersonalExemption",
        "§151(b)",
        "Exemption for the taxpayer and, on a separate return, a spouse without income.",
    ),
    _concept(
        "DependentExemption",
        "PersonalExemption",
        "§151(c)",
        "Exemption for each dependent of the taxpayer.",
    ),
    _concept(
        "ExemptionAmount",
        "StatutoryAmount",
        "§151(d)(1)",
        "Amount of one exemption; zero for some dependents and for 2018-2025.",
    ),
    _concept(
        "ExemptionPhaseOut",
        "StatutoryAmount",
        "§151(d)(3)(A)",
        "Reduction of the exemption amount by the applicable percentage.",
    ),
    _concept(
        "ApplicablePercentage",
        "StatutoryAmount",
        "§151(d)(3)(B)",
        "Two points per $2,500 of AGI over the applicable amount, at most 100.",
    ),
    _concept("TaxAmount", "StatutoryAmount", "§1", "A tax imposed by the excerpt."),
    _concept(
        "IncomeTaxAmount",
        "TaxAmount",
        "§1",
        "Income tax on taxable income under the rate schedule of the filing status.",
    ),
    _concept(
        "ExciseTaxAmount",
        "TaxAmount",
        "§3301",
        "Employer's excise tax: 6 percent of wages paid for employment.",
    ),
    _concept(
        "TotalTaxAmount",
        "TaxAmount",
        "§1",
        "Income tax under §1 plus excise tax under §3301 (SARA's numeric answer).",
    ),
    _concept(
        "Employer",
        "EmploymentConcept",
        "§3306(a)",
        "Person paying enough wages, or employing on enough days, in a calendar year.",
    ),
    _concept(
        "Wages",
        "EmploymentConcept",
        "§3306(b)",
        "All remuneration for employment, with the listed exclusions.",
    ),
    _concept(
        "Employment",
        "EmploymentConcept",
        "§3306(c)",
        "Service by an employee for the employer, with the listed exceptions.",
    ),
    _concept(
        "AgriculturalLabor",
        "EmploymentConcept",
        "§3306(a)(2)",
        "Employment in agriculture, with its own employer test.",
    ),
    _concept(
        "DomesticService",
        "EmploymentConcept",
        "§3306(a)(3)",
        "Service in a private home, college club or fraternity, with its own employer test.",
    ),
    _concept(
        "JointReturnSchedule",
        "RateSchedule",
        "§1(a)",
        "Rates for joint returns and surviving spouses.",
    ),
    _concept("HeadOfHouseholdSchedule", "RateSchedule", "§1(b)", "Rates for heads of households."),
    _concept("UnmarriedSchedule", "RateSchedule", "§1(c)", "Rates for unmarried individuals."),
    _concept(
        "MarriedFilingSeparatelySchedule",
        "RateSchedule",
        "§1(d)",
        "Rates for married individuals filing separate returns.",
    ),
)

ARTIFACT_CLASSES: tuple[ClassSpec, ...] = (
    ClassSpec("ReasoningArtifact", None, "Something the legal pipeline reads or produces."),
    ClassSpec("CaseFacts", "ReasoningArtifact", "A set of individuals and their property values."),
    ClassSpec("TaxQuestion", "ReasoningArtifact", "How much tax a taxpayer owes for a year."),
    ClassSpec("TaxAnswer", "ReasoningArtifact", "An amount with the proof that derives it."),
    ClassSpec("ProofStep", "ReasoningArtifact", "One goal of a proof, with its citation."),
    ClassSpec(
        "CaseText",
        "ReasoningArtifact",
        "A case described in English: the facts and the question, no Prolog.",
    ),
    ClassSpec(
        "EntailmentQuestion",
        "ReasoningArtifact",
        "Whether one clause of a statute applies to a case (a SARA binary case).",
    ),
    ClassSpec(
        "EntailmentAnswer",
        "ReasoningArtifact",
        "Entailment or Contradiction, with the proof or the failed proof.",
    ),
    # What the legal agent's capabilities consume and produce, so the planner can chain them.
    ClassSpec(
        "SaraCaseFile",
        "ReasoningArtifact",
        "The text of a SARA case file: a description, Prolog facts and a test query.",
    ),
    ClassSpec(
        "ValidatedFacts",
        "CaseFacts",
        "Case facts that passed the ontology checks: classes, properties, domains, ranges.",
    ),
    ClassSpec(
        "Proof",
        "ReasoningArtifact",
        "A proof tree of ProofSteps, each citing the subsection it applies.",
    ),
    ClassSpec(
        "Explanation",
        "ReasoningArtifact",
        "A readable account of a proof in which every line cites its subsection.",
    ),
)


@dataclass(frozen=True)
class ArtifactProperty:
    """A property between reasoning artifacts; ``range`` is a class or ``integer``/``string``."""

    name: str
    domain: str
    range: str
    comment: str


ARTIFACT_PROPERTIES: tuple[ArtifactProperty, ...] = (
    ArtifactProperty("taxpayer", "TaxQuestion", "Entity", "Whose tax is asked."),
    ArtifactProperty("taxYear", "TaxQuestion", "integer", "The taxable (calendar) year."),
    ArtifactProperty("aboutFacts", "TaxQuestion", "CaseFacts", "The facts the question is about."),
    ArtifactProperty("answers", "TaxAnswer", "TaxQuestion", "The question answered."),
    ArtifactProperty("answerAmount", "TaxAnswer", "integer", "The tax, in dollars."),
    ArtifactProperty("hasProof", "TaxAnswer", "ProofStep", "The root of the proof."),
    ArtifactProperty("subStep", "ProofStep", "ProofStep", "A step the parent step relies on."),
    ArtifactProperty("citation", "ProofStep", "string", "Subsection applied, e.g. §63(c)(2)."),
)
