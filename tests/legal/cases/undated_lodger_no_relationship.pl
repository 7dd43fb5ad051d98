% Text
% Bob lives in Alice's house. Bob is the son of Dora, who is not related to Alice.
% By hand: no fact is dated, and in no year is Bob Alice's child or descendant, sibling or
% stepsibling (§152(c)(2)): the undated facts are the same in every year, and none relates them.

% Question
% Bob bears a relationship to Alice under section 152(c)(2). Contradiction

% Facts
:- [statutes/prolog/init].
son_(dora_and_bob).
agent_(dora_and_bob,bob).
patient_(dora_and_bob,dora).
residence_(bob_lodges).
agent_(bob_lodges,bob).
patient_(bob_lodges,alice_s_house).
residence_(alice_lives).
agent_(alice_lives,alice).
patient_(alice_lives,alice_s_house).

% Test
:- \+ s152_c_2(bob,alice,_,_).
:- halt.
