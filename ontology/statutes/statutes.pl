/*  statutes.pl -- module statutes: the formalization of the nine SARA
    statute sections (§1, §2, §63, §68, §151, §152, §3301, §3306, §7703),
    the top-level query tax/3 and the proof interpreter.

    Usage:   ?- consult('ontology/statutes/statutes.pl').
             ?- consult(CaseFactsFile).          % into user
             ?- tax(alice, 2017, Amount).
             ?- prove(tax(alice, 2017, A), Proof), json_write_dict(current_output, Proof).
             ?- statutes:s63_c_2(alice, 2017, Basic).   % any statutory node

    The case facts are read from module user; the statute predicates live
    in module statutes, so a case's own helper predicates cannot clash with
    them.  The section files are included here (one module).
*/

:- module(statutes,
          [ tax/3,
            prove/2,
            prove_json/2,
            sara_entail/3,
            load_case_facts/1,
            unload_case_facts/1,
            expand_case_facts/0,
            clear_case_facts/0,
            case_fact_base_empty/0,
            statute_node/3,
            first_day_year/2,
            last_day_year/2,
            is_before/2
          ]).

:- set_prolog_flag(double_quotes, string).

:- use_module(generated_facts).

:- include(dates).
:- include(core).
:- include(facts).
:- include(events).
:- include(s7703).
:- include(s152).
:- include(s151).
:- include(s2).
:- include(s68).
:- include(s63).
:- include(s1).
:- include(s3306).
:- include(s3301).
:- include(proof).
:- include(sara_clauses).

%!  statute_node(?Goal, ?Citation, ?ValueArg) the statutory nodes of the
%   formalization: Goal a most general goal (call it as statutes:Goal).
statute_node(Goal, Citation, ValueArg) :-
    cites(Name/Arity, Citation, ValueArg),
    functor(Goal, Name, Arity).

helper_node(tax/3, 3).
helper_node(income_tax_dollars/3, 3).
helper_node(excise_tax_dollars/3, 3).
combines(tax/3, sum).
combines(income_tax_dollars/3, round).
combines(excise_tax_dollars/3, round).
combines(gross_income/3, same).

%!  tax(+Person, +Year, ?Amount) the income tax imposed by §1 on Person for
%   Year plus the excise tax Person owes as an employer under §3301, each
%   stated in whole dollars.
tax(P, Y, A) :-
    expand_case_facts,
    case_answerable(P, Y),
    income_tax_dollars(P, Y, I),
    excise_tax_dollars(P, Y, E),
    A is I + E.

%!  income_tax_dollars(+P, +Y, -D) §1 tax, rounded to the nearest dollar
%   (half a dollar rounds up).
income_tax_dollars(P, Y, D) :-
    s1(P, Y, T),
    D is round(T).

%!  excise_tax_dollars(+P, +Y, -D) §3301 tax, rounded to the nearest dollar.
excise_tax_dollars(P, Y, D) :-
    s3301(P, Y, T),
    D is round(T).

%!  case_answerable(+P, +Y) the case says enough to compute P's tax for Y, or
%   an error says what is missing.  Otherwise the answer would be a number
%   with a proof and still wrong: a person no fact names has no income and
%   owes $0; an income or payment with no date counts in no year, and one
%   with no amount adds nothing; an event dated "2017-02-30" is in no year
%   either (it was silently left out: a salary so dated made a $0 tax).
%   (The amounts of §3306 reach back to the
%   preceding year.)  An itemized deduction without amount stays an
%   election to itemize (facts.pl).
case_answerable(P, Y) :-
    (   named_in_case(P)
    ->  true
    ;   throw(error(existence_error(case_individual, P),
                    context(tax/3, 'the question asks about someone no fact of the case names')))
    ),
    case_dates_valid(tax/3),
    Y0 is Y - 1,
    forall(( payment_(E) ; income_(E) ),
           (   \+ start_(E, _), \+ end_(E, _)
           ->  throw(error(existence_error(case_date, E),
                           context(tax/3, 'an income or payment of the case has no date: it cannot be placed in a year')))
           ;   amount_(E, _)
           ->  true
           ;   event_date(E, D), date_in_year(D, _, DY), DY >= Y0, DY =< Y
           ->  throw(error(existence_error(case_amount, E),
                           context(tax/3, 'an income or payment of the case has no amount')))
           ;   true
           )).

%!  case_dates_valid(+Context) every start_ and end_ of the case is a calendar
%   date, or an error names the event (one dated "2017-02-30" would be in
%   no year, silently: for tax/3 and for an entailment question alike).
case_dates_valid(Context) :-
    forall(( start_(E, D) ; end_(E, D) ),
           (   date_days(D, _)
           ->  true
           ;   throw(error(existence_error(case_date, E),
                           context(Context, 'a date of the case is no calendar date (YYYY-MM-DD): the event cannot be placed in time')))
           )).

named_in_case(P) :-
    member(Role, [agent_, patient_, beneficiary_, destination_, means_, location_, purpose_,
                  reason_, type_, country_]),
    (   call(user:Role, _, P) ; call(user:Role, P, _) ), !.
