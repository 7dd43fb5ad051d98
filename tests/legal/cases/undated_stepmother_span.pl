% Text
% Alice is married to Charlie. Charlie is Bob's father.
% By hand: no fact is dated, so Alice has been Bob's stepmother (§152(d)(2)(D)) for as long as
% the facts go back, and still is: a span with neither a first nor a last day. Refused as
% "year of (_)" before.

% Question
% Alice bears a relationship to Bob under section 152(d)(2)(D), and still does. Entailment

% Facts
:- [statutes/prolog/init].
marriage_(alice_and_charlie).
agent_(alice_and_charlie,alice).
agent_(alice_and_charlie,charlie).
father_(charlie_and_bob).
agent_(charlie_and_bob,charlie).
patient_(charlie_and_bob,bob).

% Test
:- s152_d_2_D(alice,bob,_,End_relationship), var(End_relationship).
:- halt.
