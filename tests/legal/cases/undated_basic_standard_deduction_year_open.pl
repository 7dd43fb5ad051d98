% Text
% Alice is not married.
% By hand: nothing is dated; asked without a year, the basic standard deduction of §63(c)(2)(C) is
% $3,000 before 2018 (and $12,000 from 2018 to 2025, §63(c)(7)); it is never $4,400.

% Question
% Under section 63(c)(2)(C), Alice's basic standard deduction is equal to $4400. Contradiction

% Facts
:- [statutes/prolog/init].
residence_(alice_lives).
agent_(alice_lives,alice).
patient_(alice_lives,alices_flat).

% Test
:- \+ s63_c_2_C(_,4400).
:- halt.
