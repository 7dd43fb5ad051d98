% Text
% Una married Vic on January 1st, 2001. Vic died on February 2nd, 2017.
% By hand: her spouse died during the taxable year: she is considered married at its close
% (§2(b)(2)(C)).

% Question
% Section 2(b)(2)(C) applies to Una in 2017. Entailment

% Facts
:- [statutes/prolog/init].
marriage_(una_vic_marriage).
agent_(una_vic_marriage,una).
agent_(una_vic_marriage,vic).
start_(una_vic_marriage,"2001-01-01").
death_(vic_dies).
agent_(vic_dies,vic).
start_(vic_dies,"2017-02-02").

% Test
:- s2_b_2_C(una,una_vic_marriage,vic,2017).
:- halt.
