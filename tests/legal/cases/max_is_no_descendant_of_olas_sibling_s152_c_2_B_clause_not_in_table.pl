% Text
% Ned is Max's brother. Ola is Ned's daughter, born March 30th, 2009.
% By hand: the question asks whether Max is a brother or sister of the taxpayer Ola or a
% descendant of one (§152(c)(2)(B)): he is her uncle, so no (the reverse, Ola a descendant
% of Max's brother, holds).

% Question
% Max bears a relationship to Ola under section 152(c)(2)(B) for the year 2017. Contradiction

% Facts
:- [statutes/prolog/init].
brother_(ned_brother_of_max).
agent_(ned_brother_of_max,ned).
patient_(ned_brother_of_max,max).
daughter_(ola_daughter_of_ned).
agent_(ola_daughter_of_ned,ola).
patient_(ola_daughter_of_ned,ned).
start_(ola_daughter_of_ned,"2009-03-30").

% Test
:- s152_c_2_B(max,ola,2017).
:- halt.
