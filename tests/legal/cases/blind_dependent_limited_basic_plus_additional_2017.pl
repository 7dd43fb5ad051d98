% Text
% Pia, born May 5th, 1998, blind since 2005, lives with her unmarried father Quentin (born 1968) in the
% family home. She was paid $2000 for a summer job in 2017; Quentin earned $80000.
% By hand: Pia is Quentin's qualifying child: her basic standard deduction is limited to $2,250
% (§63(c)(5)); the additional amount for the blind is $750 (not married, §63(f)(3)): $3,000.

% Question
% Under section 63(c)(1), Pia's standard deduction in 2017 is equal to $3000. Entailment

% Facts
:- [statutes/prolog/init].
birth_(pia_born).
agent_(pia_born,pia).
start_(pia_born,"1998-05-05").
father_(quentin_father_of_pia).
agent_(quentin_father_of_pia,quentin).
patient_(quentin_father_of_pia,pia).
start_(quentin_father_of_pia,"1998-05-05").
birth_(quentin_born).
agent_(quentin_born,quentin).
start_(quentin_born,"1968-01-01").
blindness_(pia_blind).
agent_(pia_blind,pia).
start_(pia_blind,"2005-01-01").
residence_(quentin_lives).
agent_(quentin_lives,quentin).
patient_(quentin_lives,family_home).
start_(quentin_lives,"1995-01-01").
residence_(pia_lives).
agent_(pia_lives,pia).
patient_(pia_lives,family_home).
start_(pia_lives,"1998-05-05").
payment_(pia_summer_job).
patient_(pia_summer_job,pia).
amount_(pia_summer_job,2000).
start_(pia_summer_job,"2017-08-31").
payment_(quentin_salary).
patient_(quentin_salary,quentin).
amount_(quentin_salary,80000).
start_(quentin_salary,"2017-12-31").

% Test
:- s63_c_1(pia,2017,3000).
:- halt.
