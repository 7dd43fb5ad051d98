% Text
% Lou has never married. He was paid $30000 on March 3rd, 2019.
% By hand: 2019 is a taxable year beginning after December 31, 2017 and before January 1, 2026:
% §63(c)(7)(ii) substitutes $12,000 for $3,000 in §63(c)(2)(C), which applies to Lou (no joint
% return, no surviving spouse, no head of household).

% Question
% Section 63(c)(7)(ii) applies to Lou for 2019 with an amount of $12000. Entailment

% Facts
:- [statutes/prolog/init].
payment_(lou_paid).
patient_(lou_paid,lou).
amount_(lou_paid,30000).
start_(lou_paid,"2019-03-03").

% Test
:- s63_c_7_ii(lou,2019,12000).
:- halt.
