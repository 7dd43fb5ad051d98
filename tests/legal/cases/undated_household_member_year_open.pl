% Text
% Dora lives in Alice's house with Alice. Dora is not related to Alice and has never married her.
% By hand: no fact is dated and the question names no year, so the facts hold alike in every
% year: Dora shares Alice's abode the whole year and is a member of her household
% (§152(d)(2)(H)). An instantiation error before (the year left open reached the node).

% Question
% Dora bears a relationship to Alice under section 152(d)(2)(H). Entailment

% Facts
:- [statutes/prolog/init].
residence_(alice_lives).
agent_(alice_lives,alice).
patient_(alice_lives,alice_s_house).
residence_(dora_lodges).
agent_(dora_lodges,dora).
patient_(dora_lodges,alice_s_house).

% Test
:- s152_d_2_H(dora,alice,_,_,_,_).
:- halt.
