% Text
% Alice was a nonresident alien from 2010 to December 31st, 2015. She was paid $30000 in 2017.
% By hand: not a nonresident alien at any time in 2017: §2(b)(3)(A) does not apply.

% Question
% Section 2(b)(3)(A) applies to Alice in 2017. Contradiction

% Facts
:- [statutes/prolog/init].
nonresident_alien_(alice_is_nra).
agent_(alice_is_nra,alice).
start_(alice_is_nra,"2010-01-01").
end_(alice_is_nra,"2015-12-31").
payment_(alice_is_paid).
patient_(alice_is_paid,alice).
amount_(alice_is_paid,30000).
start_(alice_is_paid,"2017-12-31").

% Test
:- \+ s2_b_3_A(alice,2017).
:- halt.
