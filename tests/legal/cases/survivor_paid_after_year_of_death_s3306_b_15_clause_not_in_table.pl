% Text
% Bob worked for Alice from February 1st to November 19th, 2019 and died on November 25th, 2019.
% On January 20th, 2020, Alice paid Charlie, Bob's surviving spouse, Bob's outstanding wages of
% $4500.
% By hand: a payment to the survivor of a former employee after the calendar year in which he
% died: §3306(b)(15).

% Question
% Section 3306(b)(15) applies to the payment Alice made to Charlie. Entailment

% Facts
:- [statutes/prolog/init].
service_(bob_works_for_alice).
agent_(bob_works_for_alice,bob).
patient_(bob_works_for_alice,alice).
start_(bob_works_for_alice,"2019-02-01").
end_(bob_works_for_alice,"2019-11-19").
death_(bob_dies).
agent_(bob_dies,bob).
start_(bob_dies,"2019-11-25").
end_(bob_dies,"2019-11-25").
marriage_(bob_and_charlie).
agent_(bob_and_charlie,bob).
agent_(bob_and_charlie,charlie).
payment_(alice_pays_for_bob).
agent_(alice_pays_for_bob,alice).
patient_(alice_pays_for_bob,charlie).
start_(alice_pays_for_bob,"2020-01-20").
purpose_(alice_pays_for_bob,bob_works_for_alice).
amount_(alice_pays_for_bob,4500).

% Test
:- s3306_b_15(alice_pays_for_bob,bob_works_for_alice,alice,charlie).
:- halt.
