% Text
% Oskar is the father of Pia since March 2nd, 1990. Pia married Rolf on September 14th, 2017.
% By hand: Oskar is Rolf's father-in-law (§152(d)(2)(G)) from the wedding, September 14th,
% 2017, on, and still is: the relationship began before the first day of 2018.

% Question
% Oskar bears a relationship to Rolf under section 152(d)(2)(G) for the year 2018. Entailment

% Facts
:- [statutes/prolog/init].
father_(oskar_father_of_pia).
agent_(oskar_father_of_pia,oskar).
patient_(oskar_father_of_pia,pia).
start_(oskar_father_of_pia,"1990-03-02").
marriage_(pia_weds_rolf).
agent_(pia_weds_rolf,pia).
patient_(pia_weds_rolf,rolf).
start_(pia_weds_rolf,"2017-09-14").

% Test
:- s152_d_2_G(oskar,rolf,Start_relationship,End_relationship),
    var(End_relationship),
    first_day_year(2018,First_day),
    is_before(Start_relationship,First_day).
:- halt.
