% Text
% Alice married Bob on September 9th, 1999. Bob died on April 4th, 2016. Alice married Charlie
% on October 1st, 2017.
% By hand: Alice remarried before the close of 2017: §2(a)(2)(A).

% Question
% Section 2(a)(2)(A) applies to Alice in 2017. Entailment

% Facts
:- [statutes/prolog/init].
marriage_(alice_and_bob).
agent_(alice_and_bob,alice).
agent_(alice_and_bob,bob).
start_(alice_and_bob,"1999-09-09").
death_(bob_dies).
agent_(bob_dies,bob).
start_(bob_dies,"2016-04-04").
end_(bob_dies,"2016-04-04").
marriage_(alice_and_charlie).
agent_(alice_and_charlie,alice).
agent_(alice_and_charlie,charlie).
start_(alice_and_charlie,"2017-10-01").

% Test
:- s2_a_2_A(alice,2017).
:- halt.
