/*  facts.pl -- the case vocabulary.

    Every predicate a SARA case file may use to state facts is declared
    dynamic (so that a fact type absent from a case simply fails instead of
    raising an existence error) and discontiguous (case files interleave
    them freely, and some define them through rules).

    Event types are unary (marriage_(e)); roles are binary (agent_(e, x)).
    A few names serve as both (country_, beneficiary_, ...): both arities
    are declared.
*/

:- dynamic
    agricultural_service_/1,
    american_employer_/1,
    attending_classes_/1,
    beneficiary_/1,
    birth_/1,
    blindness_/1,
    brother_/1,
    business_/1,
    business_trust_/1,
    citizenship_/1,
    country_/1,
    daughter_/1,
    death_/1,
    deduction_/1,
    destination_/1,
    disability_/1,
    educational_institution_/1,
    enrollment_/1,
    estate_/1,
    father_/1,
    hospital_/1,
    incarceration_/1,
    income_/1,
    international_organization_/1,
    itemized_deductions_/1,
    joint_return_/1,
    legal_separation_/1,
    location_/1,
    marriage_/1,
    means_/1,
    medical_institution_/1,
    medical_patient_/1,
    migration_/1,
    mother_/1,
    nonresident_alien_/1,
    nurses_training_school_/1,
    payment_/1,
    penal_institution_/1,
    plan_/1,
    purpose_/1,
    reason_/1,
    residence_/1,
    retirement_/1,
    service_/1,
    sibling_/1,
    sister_/1,
    son_/1,
    termination_/1,
    type_/1,
    unemployment_compensation_agreement_/1,
    % roles
    agent_/2,
    patient_/2,
    amount_/2,
    start_/2,
    end_/2,
    purpose_/2,
    location_/2,
    beneficiary_/2,
    means_/2,
    reason_/2,
    type_/2,
    destination_/2,
    country_/2.

:- discontiguous
    agricultural_service_/1,
    american_employer_/1,
    attending_classes_/1,
    beneficiary_/1,
    birth_/1,
    blindness_/1,
    brother_/1,
    business_/1,
    business_trust_/1,
    citizenship_/1,
    country_/1,
    daughter_/1,
    death_/1,
    deduction_/1,
    destination_/1,
    disability_/1,
    educational_institution_/1,
    enrollment_/1,
    estate_/1,
    father_/1,
    hospital_/1,
    incarceration_/1,
    income_/1,
    international_organization_/1,
    itemized_deductions_/1,
    joint_return_/1,
    legal_separation_/1,
    location_/1,
    marriage_/1,
    means_/1,
    medical_institution_/1,
    medical_patient_/1,
    migration_/1,
    mother_/1,
    nonresident_alien_/1,
    nurses_training_school_/1,
    payment_/1,
    penal_institution_/1,
    plan_/1,
    purpose_/1,
    reason_/1,
    residence_/1,
    retirement_/1,
    service_/1,
    sibling_/1,
    sister_/1,
    son_/1,
    termination_/1,
    type_/1,
    unemployment_compensation_agreement_/1,
    agent_/2,
    patient_/2,
    amount_/2,
    start_/2,
    end_/2,
    purpose_/2,
    location_/2,
    beneficiary_/2,
    means_/2,
    reason_/2,
    type_/2,
    destination_/2,
    country_/2.

%!  case_fact_predicate(?Name/Arity)
%   The vocabulary above; the proof meta-interpreter shows calls to these
%   predicates as leaves of the proof tree.
case_fact_predicate(Name/Arity) :-
    case_vocabulary(Names, Arity),
    member(Name, Names).

case_vocabulary([agricultural_service_, american_employer_, attending_classes_,
                 beneficiary_, birth_, blindness_, brother_, business_,
                 business_trust_, citizenship_, country_, daughter_, death_,
                 deduction_, destination_, disability_,
                 educational_institution_, enrollment_, estate_, father_,
                 hospital_, incarceration_, income_,
                 international_organization_, itemized_deductions_,
                 joint_return_, legal_separation_, location_, marriage_,
                 means_, medical_institution_, medical_patient_, migration_,
                 mother_, nonresident_alien_, nurses_training_school_,
                 payment_, penal_institution_, plan_, purpose_, reason_,
                 residence_, retirement_, service_, sibling_, sister_, son_,
                 termination_, type_, unemployment_compensation_agreement_],
                1).
case_vocabulary([agent_, patient_, amount_, start_, end_, purpose_, location_,
                 beneficiary_, means_, reason_, type_, destination_, country_],
                2).

%!  expand_case_facts is det.
%   Some case files state facts through rules that generate events (one
%   payment per year, one service per employee, ...).  Run those rules once
%   and store their solutions as plain facts, so that the statutes query
%   an explicit fact base.  Idempotent.
expand_case_facts :-
    forall(( case_fact_predicate(Name/Arity),
             functor(Head, Name, Arity),
             predicate_property(Head, number_of_rules(R)), R > 0 ),
           expand_predicate(Head)).

expand_predicate(Head) :-
    findall(Head, catch(Head, _, fail), Solutions0),
    variant_set(Solutions0, Solutions),
    retractall(Head),
    forall(member(S, Solutions), assertz(S)).

variant_set(L0, L) :-
    sort(L0, L1),                       % removes duplicate ground facts
    variant_dedup(L1, L).

variant_dedup([], []).
variant_dedup([X|T0], [X|T]) :-
    exclude(=@=(X), T0, T1),
    variant_dedup(T1, T).
