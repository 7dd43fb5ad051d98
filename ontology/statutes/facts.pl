/*  facts.pl -- the case vocabulary.

    Every predicate a SARA case file may use to state facts is declared
    dynamic (so that a fact type absent from a case simply fails instead of
    raising an existence error) and discontiguous (case files interleave
    them freely, and some define them through rules).

    Event types are unary (marriage_(e)); roles are binary (agent_(e, x)).
    A few names serve as both (country_, beneficiary_, ...): both arities
    are declared.

    The case facts live in module user (a case file is consulted there);
    the formalization (module statutes) reads them through user.
*/

:- dynamic
    user:agricultural_service_/1,
    user:american_employer_/1,
    user:attending_classes_/1,
    user:beneficiary_/1,
    user:birth_/1,
    user:blindness_/1,
    user:brother_/1,
    user:business_/1,
    user:business_trust_/1,
    user:citizenship_/1,
    user:country_/1,
    user:daughter_/1,
    user:death_/1,
    user:deduction_/1,
    user:destination_/1,
    user:disability_/1,
    user:educational_institution_/1,
    user:enrollment_/1,
    user:estate_/1,
    user:father_/1,
    user:hospital_/1,
    user:incarceration_/1,
    user:income_/1,
    user:international_organization_/1,
    user:itemized_deductions_/1,
    user:joint_return_/1,
    user:legal_separation_/1,
    user:location_/1,
    user:marriage_/1,
    user:means_/1,
    user:medical_institution_/1,
    user:medical_patient_/1,
    user:migration_/1,
    user:mother_/1,
    user:nonresident_alien_/1,
    user:nurses_training_school_/1,
    user:payment_/1,
    user:penal_institution_/1,
    user:plan_/1,
    user:purpose_/1,
    user:reason_/1,
    user:residence_/1,
    user:retirement_/1,
    user:service_/1,
    user:sibling_/1,
    user:sister_/1,
    user:son_/1,
    user:termination_/1,
    user:type_/1,
    user:unemployment_compensation_agreement_/1,
    % roles
    user:agent_/2,
    user:patient_/2,
    user:amount_/2,
    user:start_/2,
    user:end_/2,
    user:purpose_/2,
    user:location_/2,
    user:beneficiary_/2,
    user:means_/2,
    user:reason_/2,
    user:type_/2,
    user:destination_/2,
    user:country_/2.

:- discontiguous
    user:agricultural_service_/1,
    user:american_employer_/1,
    user:attending_classes_/1,
    user:beneficiary_/1,
    user:birth_/1,
    user:blindness_/1,
    user:brother_/1,
    user:business_/1,
    user:business_trust_/1,
    user:citizenship_/1,
    user:country_/1,
    user:daughter_/1,
    user:death_/1,
    user:deduction_/1,
    user:destination_/1,
    user:disability_/1,
    user:educational_institution_/1,
    user:enrollment_/1,
    user:estate_/1,
    user:father_/1,
    user:hospital_/1,
    user:incarceration_/1,
    user:income_/1,
    user:international_organization_/1,
    user:itemized_deductions_/1,
    user:joint_return_/1,
    user:legal_separation_/1,
    user:location_/1,
    user:marriage_/1,
    user:means_/1,
    user:medical_institution_/1,
    user:medical_patient_/1,
    user:migration_/1,
    user:mother_/1,
    user:nonresident_alien_/1,
    user:nurses_training_school_/1,
    user:payment_/1,
    user:penal_institution_/1,
    user:plan_/1,
    user:purpose_/1,
    user:reason_/1,
    user:residence_/1,
    user:retirement_/1,
    user:service_/1,
    user:sibling_/1,
    user:sister_/1,
    user:son_/1,
    user:termination_/1,
    user:type_/1,
    user:unemployment_compensation_agreement_/1,
    user:agent_/2,
    user:patient_/2,
    user:amount_/2,
    user:start_/2,
    user:end_/2,
    user:purpose_/2,
    user:location_/2,
    user:beneficiary_/2,
    user:means_/2,
    user:reason_/2,
    user:type_/2,
    user:destination_/2,
    user:country_/2.

%   What the gazetteer (ontology/places.py) says of the case's places and
%   employers: not case vocabulary, but added with the facts at query time
%   and shown in proofs as facts.
:- dynamic
    user:place_country_/2,
    user:government_/2,
    user:contiguous_country_/1.

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
                 termination_, type_, unemployment_compensation_agreement_,
                 contiguous_country_],
                1).
case_vocabulary([agent_, patient_, amount_, start_, end_, purpose_, location_,
                 beneficiary_, means_, reason_, type_, destination_, country_,
                 place_country_, government_],
                2).

%!  expand_case_facts is det.
%   Some case files state facts through rules that generate events (one
%   payment per year, one service per employee, ...).  Run those rules once,
%   goal-directed (generated_facts.pl: typed events first, then each role,
%   with its subject bound where the rule needs it), and store their
%   solutions as plain facts, so that the statutes query an explicit fact
%   base.  An exception in a rule is an error of the case, with the rule's
%   line (case_error(expansion, Message, Line)): no fact is dropped.
%   Idempotent.
expand_case_facts :-
    abolish_all_tables,
    findall(Name/Arity,
            ( case_fact_predicate(Name/Arity),
              functor(Head, Name, Arity),
              predicate_property(user:Head, number_of_rules(R)), R > 0 ),
            Generated),
    (   Generated == []
    ->  true
    ;   findall(N, ( case_fact_predicate(N/1), defined_in_user(N/1) ), Types),
        findall(N, ( case_fact_predicate(N/2), defined_in_user(N/2) ), Roles),
        expand_vocabulary(user, Types, Roles, consulted_line, Ground, NonGround),
        append(Ground, NonGround, All),
        forall(member(N/A, Generated), replace_by_instances(N/A, All))
    ).

defined_in_user(N/A) :-
    functor(H, N, A),
    predicate_property(user:H, number_of_clauses(C)), C > 0.

consulted_line(Ref, Line) :- clause_property(Ref, line_count(Line)).

replace_by_instances(N/A, All) :-
    functor(Head, N, A),
    findall(Head, member(Head, All), Solutions0),
    variant_set(Solutions0, Solutions),
    retractall(user:Head),
    forall(member(S, Solutions), assertz(user:S)).

variant_set(L0, L) :-
    sort(L0, L1),                       % removes duplicate ground facts
    variant_dedup(L1, L).

variant_dedup([], []).
variant_dedup([X|T0], [X|T]) :-
    exclude(=@=(X), T0, T1),
    variant_dedup(T1, T).

%!  clear_case_facts is det.
%   Remove every fact of the case vocabulary (to run another case in the
%   same process, after unload_file/1 of the previous case's file).
clear_case_facts :-
    abolish_all_tables,
    forall(( case_fact_predicate(Name/Arity), functor(Head, Name, Arity) ),
           retractall(user:Head)).

%!  load_case_facts(+File) consult a case's facts (without the dataset's
%   init directive and test goal) into user and expand generated facts.
load_case_facts(File) :-
    user:consult(File),
    expand_case_facts.

%!  unload_case_facts(+File) forget a case loaded with load_case_facts/1.
unload_case_facts(File) :-
    unload_file(File),
    clear_case_facts.

%!  case_fact_base_empty is semidet.  No case fact is loaded.
case_fact_base_empty :-
    \+ ( case_fact_predicate(Name/Arity), functor(Head, Name, Arity),
         catch(user:Head, _, fail) ).
