% Text
% Alice has never been married. Her son Bob was born on March 3rd, 2008, and has lived with
% her in her house since then. Alice paid all the costs of the house in 2017: $15,000.
% By hand: the question names no year; in 2017, a year of the case, Bob (9, living with her
% all year, no income of his own) is Alice's qualifying child (§152(c)) and she maintains the
% household with over half its cost, so §2(b)(1) applies for 2017. An instantiation error
% before (the year left open reached §2(b)(1)).

% Question
% Section 2(b)(1) applies to Alice. Entailment

% Facts
:- [statutes/prolog/init].
son_(bob_son_of_alice).
agent_(bob_son_of_alice,bob).
patient_(bob_son_of_alice,alice).
start_(bob_son_of_alice,"2008-03-03").
birth_(bob_born).
agent_(bob_born,bob).
start_(bob_born,"2008-03-03").
residence_(alice_home).
agent_(alice_home,alice).
agent_(alice_home,bob).
patient_(alice_home,alice_s_house).
start_(alice_home,"2008-03-03").
payment_(alice_upkeep_2017).
agent_(alice_upkeep_2017,alice).
purpose_(alice_upkeep_2017,alice_s_house).
amount_(alice_upkeep_2017,15000).
start_(alice_upkeep_2017,"2017-12-31").

% Test
:- s2_b_1(alice,_,_,_).
:- halt.
