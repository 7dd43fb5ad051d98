% Text
% Alice has a son, Bob.
% By hand: no fact is dated, so the son relationship holds in every year alike; Bob is a
% child of Alice (§152(c)(2)(A)) whatever the year. Refused as "year of (_)" before.

% Question
% Bob bears a relationship to Alice under section 152(c)(2)(A). Entailment

% Facts
:- [statutes/prolog/init].
son_(alice_and_bob).
agent_(alice_and_bob,bob).
patient_(alice_and_bob,alice).

% Test
:- s152_c_2_A(bob,alice,_,_,_).
:- halt.
