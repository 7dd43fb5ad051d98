% Text
% Alice is Bob's mother's sister. Charlie, Alice's son, was born on March 3rd, 2012.
% By hand: Charlie is Bob's cousin, not a descendant of a brother or sister of Bob: §152(c)(2)(B)
% does not apply.

% Question
% Charlie bears a relationship to Bob under section 152(c)(2)(B). Contradiction

% Facts
:- [statutes/prolog/init].
sister_(alice_is_dorises_sister).
agent_(alice_is_dorises_sister,alice).
patient_(alice_is_dorises_sister,doris).
mother_(doris_is_bobs_mother).
agent_(doris_is_bobs_mother,doris).
patient_(doris_is_bobs_mother,bob).
son_(charlie_is_alices_son).
agent_(charlie_is_alices_son,charlie).
patient_(charlie_is_alices_son,alice).
start_(charlie_is_alices_son,"2012-03-03").

% Test
:- \+ s152_c_2_B(charlie,bob,_,_,_).
:- halt.
