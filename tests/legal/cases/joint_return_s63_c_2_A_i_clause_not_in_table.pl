% Text
% Alice and Bob have been married since 2001 and file a joint return for 2017.
% By hand: a joint return: §63(c)(2)(A)(i).

% Question
% Section 63(c)(2)(A)(i) applies to Alice in 2017. Entailment

% Facts
:- [statutes/prolog/init].
marriage_(alice_and_bob).
agent_(alice_and_bob,alice).
agent_(alice_and_bob,bob).
start_(alice_and_bob,"2001-05-05").
joint_return_(alice_and_bob_2017).
agent_(alice_and_bob_2017,alice).
agent_(alice_and_bob_2017,bob).
start_(alice_and_bob_2017,"2017-01-01").
end_(alice_and_bob_2017,"2017-12-31").

% Test
:- s63_c_2_A_i(alice,2017).
:- halt.
