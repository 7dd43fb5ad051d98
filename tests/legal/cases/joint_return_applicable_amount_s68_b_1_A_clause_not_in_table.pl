% Text
% Alice and Bob have been married since 2001 and file a joint return for 2016. Alice was paid
% $400000 in 2016.
% By hand: a joint return: the applicable amount is $300,000 (§68(b)(1)(A)).

% Question
% Under section 68(b)(1)(A), Alice's applicable amount for 2016 is equal to $300000. Entailment

% Facts
:- [statutes/prolog/init].
marriage_(alice_and_bob).
agent_(alice_and_bob,alice).
agent_(alice_and_bob,bob).
start_(alice_and_bob,"2001-05-05").
joint_return_(alice_and_bob_2016).
agent_(alice_and_bob_2016,alice).
agent_(alice_and_bob_2016,bob).
start_(alice_and_bob_2016,"2016-01-01").
end_(alice_and_bob_2016,"2016-12-31").
payment_(alice_is_paid).
patient_(alice_is_paid,alice).
amount_(alice_is_paid,400000).
start_(alice_is_paid,"2016-12-31").

% Test
:- s68_b_1_A(alice,300000,2016).
:- halt.
