% Text
% Alice has a son, Bob.
% By hand: nothing is dated, so the facts hold alike in every year; the clause is asked without a
% year, and in the years 2018 to 2025 the exemption amount is zero (§151(d)(5)).

% Question
% The exemption amount of Alice's exemption is equal to $0 under section 151(d)(5)(A). Entailment

% Facts
:- [statutes/prolog/init].
son_(alice_and_bob).
agent_(alice_and_bob,bob).
patient_(alice_and_bob,alice).

% Test
:- s151_d_5(0,_).
:- halt.
