% Text
% Alice has been a nonresident alien since 2012. She was paid $30000 in 2017.
% By hand: at some time in 2017 Alice is a nonresident alien: §2(b)(3)(A).

% Question
% Section 2(b)(3)(A) applies to Alice in 2017. Entailment

% Facts
:- [statutes/prolog/init].
nonresident_alien_(alice_is_nra).
agent_(alice_is_nra,alice).
start_(alice_is_nra,"2012-01-01").
payment_(alice_is_paid).
patient_(alice_is_paid,alice).
amount_(alice_is_paid,30000).
start_(alice_is_paid,"2017-12-31").

% Test
:- s2_b_3_A(alice,2017).
:- halt.
