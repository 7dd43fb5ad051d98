% Text
% Quentin (born 1968) has never married and pays all the costs of the family home ($20000 in 2017),
% where his daughter Pia, born May 5th, 1997, and Pia's son Sam, born March 3rd, 2016, live with him.
% Pia earned $9000 in 2017 and Quentin $80000. Nobody itemizes.
% By hand: Pia (20) and Sam (a descendant of his child) are Quentin's qualifying children: head of
% household, $4,400; three exemptions $6,000: taxable $69,600, §1(b)(ii) $4,440 + 28% of $40,000 =
% $15,640.

% Question
% How much tax does Quentin have to pay in 2017? $15640

% Facts
:- [statutes/prolog/init].
birth_(pia_born).
agent_(pia_born,pia).
start_(pia_born,"1997-05-05").
father_(quentin_father_of_pia).
agent_(quentin_father_of_pia,quentin).
patient_(quentin_father_of_pia,pia).
start_(quentin_father_of_pia,"1997-05-05").
birth_(quentin_born).
agent_(quentin_born,quentin).
start_(quentin_born,"1968-01-01").
birth_(sam_born).
patient_(sam_born,sam).
start_(sam_born,"2016-03-03").
mother_(pia_mother_of_sam).
agent_(pia_mother_of_sam,pia).
patient_(pia_mother_of_sam,sam).
start_(pia_mother_of_sam,"2016-03-03").
residence_(quentin_lives).
agent_(quentin_lives,quentin).
patient_(quentin_lives,family_home).
start_(quentin_lives,"1995-01-01").
residence_(pia_lives).
agent_(pia_lives,pia).
patient_(pia_lives,family_home).
start_(pia_lives,"1997-05-05").
residence_(sam_lives).
agent_(sam_lives,sam).
patient_(sam_lives,family_home).
start_(sam_lives,"2016-03-03").
payment_(quentin_pays_home).
agent_(quentin_pays_home,quentin).
purpose_(quentin_pays_home,family_home).
amount_(quentin_pays_home,20000).
start_(quentin_pays_home,"2017-03-01").
payment_(pia_job).
patient_(pia_job,pia).
amount_(pia_job,9000).
start_(pia_job,"2017-08-31").
payment_(quentin_salary).
patient_(quentin_salary,quentin).
amount_(quentin_salary,80000).
start_(quentin_salary,"2017-12-31").

% Test
:- tax(quentin,2017,15640).
:- halt.
