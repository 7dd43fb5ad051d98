% Text
% Charlie is Bob's father. Dana is Charlie's sister.
% By hand: no fact is dated. Dana is a sister of Bob's father, so she bears a relationship to
% Bob under §152(d)(2)(F) in every year alike. Refused as "year of (_)" before.

% Question
% Dana bears a relationship to Bob under section 152(d)(2)(F). Entailment

% Facts
:- [statutes/prolog/init].
father_(charlie_and_bob).
agent_(charlie_and_bob,charlie).
patient_(charlie_and_bob,bob).
sister_(dana_and_charlie).
agent_(dana_and_charlie,dana).
patient_(dana_and_charlie,charlie).

% Test
:- s152_d_2_F(dana,bob,_,_,_).
:- halt.
