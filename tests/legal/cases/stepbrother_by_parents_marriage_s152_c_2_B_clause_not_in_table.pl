% Text
% Mia is Alice's mother; Alice was born March 3rd, 1990. Mia married Ned on December 12th, 2012.
% Ned's son Ollie was born May 5th, 2005.
% By hand: Ollie is the son of Alice's stepfather: her stepbrother (§152(c)(2)(B)) since the
% marriage.

% Question
% Ollie bears a relationship to Alice under section 152(c)(2)(B). Entailment

% Facts
:- [statutes/prolog/init].
mother_(mia_mother_of_alice).
agent_(mia_mother_of_alice,mia).
patient_(mia_mother_of_alice,alice).
start_(mia_mother_of_alice,"1990-03-03").
marriage_(mia_weds_ned).
agent_(mia_weds_ned,ned).
patient_(mia_weds_ned,mia).
start_(mia_weds_ned,"2012-12-12").
son_(ollie_son_of_ned).
agent_(ollie_son_of_ned,ollie).
patient_(ollie_son_of_ned,ned).
start_(ollie_son_of_ned,"2005-05-05").
daughter_(pam_daughter_of_ollie).
agent_(pam_daughter_of_ollie,pam).
patient_(pam_daughter_of_ollie,ollie).
start_(pam_daughter_of_ollie,"2024-02-02").

% Test
:- s152_c_2_B(ollie,alice,_,_,_).
:- halt.
