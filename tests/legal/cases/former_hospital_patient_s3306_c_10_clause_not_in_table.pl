% Text
% Alice was paid $200 in May 2017 for services performed at Mercy Hospital from May 2nd to May
% 20th, 2017. She had been a patient there from March 15th, 2017 to April 2nd, 2017.
% By hand: she was no longer a patient when she performed the service (§3306(c)(10)(B) does not
% apply), and a hospital is no school, college or university ((A)): §3306(c)(10) does not
% apply.

% Question
% Section 3306(c)(10) applies to Alice's employment at Mercy Hospital. Contradiction

% Facts
:- [statutes/prolog/init].
hospital_(mercy_is_a_hospital).
agent_(mercy_is_a_hospital,"mercy hospital").
service_(alice_employed).
patient_(alice_employed,"mercy hospital").
agent_(alice_employed,alice).
start_(alice_employed,"2017-05-02").
end_(alice_employed,"2017-05-20").
payment_(alice_is_paid).
agent_(alice_is_paid,"mercy hospital").
patient_(alice_is_paid,alice).
start_(alice_is_paid,"2017-05-20").
purpose_(alice_is_paid,alice_employed).
amount_(alice_is_paid,200).
medical_patient_(alice_at_mercy).
agent_(alice_at_mercy,alice).
patient_(alice_at_mercy,"mercy hospital").
start_(alice_at_mercy,"2017-03-15").
end_(alice_at_mercy,"2017-04-02").

% Test
:- \+ s3306_c_10(alice_employed).
:- halt.
