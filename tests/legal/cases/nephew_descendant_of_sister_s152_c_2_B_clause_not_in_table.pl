% Text
% Alice is Bob's sister. Charlie, Alice's son, was born on March 3rd, 2012.
% By hand: Charlie is a descendant of Bob's sister: §152(c)(2)(B).

% Question
% Charlie bears a relationship to Bob under section 152(c)(2)(B). Entailment

% Facts
:- [statutes/prolog/init].
sister_(alice_is_bobs_sister).
agent_(alice_is_bobs_sister,alice).
patient_(alice_is_bobs_sister,bob).
son_(charlie_is_alices_son).
agent_(charlie_is_alices_son,charlie).
patient_(charlie_is_alices_son,alice).
start_(charlie_is_alices_son,"2012-03-03").

% Test
:- s152_c_2_B(charlie,bob,_,_,_).
:- halt.
