% Text
% Kurt married Lina on April 4th, 2004; Lina, a nonresident alien, died on March 3rd, 2016. Their
% son Milo, born May 5th, 2006, lives with Kurt in Kurt's house, whose costs ($12000 in 2017) Kurt
% pays alone. Milo has no income. Kurt was paid $60000 in 2017 and takes the standard deduction.
% By hand: no joint return could have been made for 2016, Lina being a nonresident alien: Kurt is
% not a surviving spouse (§2(a)(2)(B)). Not married at the close of 2017, Milo his qualifying
% child: head of household (§2(b)(1)(A)(i)). $60,000 - $4,400 - $4,000 = $51,600:
% §1(b)(ii), $4,440 + 28% of $22,000 = $10,600.

% Question
% How much tax does kurt have to pay in 2017? $10600

% Facts
:- [statutes/prolog/init].
marriage_(kurt_and_lina).
agent_(kurt_and_lina,kurt).
agent_(kurt_and_lina,lina).
start_(kurt_and_lina,"2004-04-04").
nonresident_alien_(lina_nra).
agent_(lina_nra,lina).
death_(lina_dies).
agent_(lina_dies,lina).
start_(lina_dies,"2016-03-03").
end_(lina_dies,"2016-03-03").
son_(milo_is_kurts_son).
agent_(milo_is_kurts_son,milo).
patient_(milo_is_kurts_son,kurt).
birth_(milo_born).
agent_(milo_born,milo).
start_(milo_born,"2006-05-05").
residence_(kurt_home).
agent_(kurt_home,kurt).
patient_(kurt_home,kurts_house).
start_(kurt_home,"2004-04-04").
residence_(milo_home).
agent_(milo_home,milo).
patient_(milo_home,kurts_house).
start_(milo_home,"2006-05-05").
payment_(kurt_keeps_house).
agent_(kurt_keeps_house,kurt).
purpose_(kurt_keeps_house,kurts_house).
amount_(kurt_keeps_house,12000).
start_(kurt_keeps_house,"2017-06-30").
payment_(kurt_paid).
patient_(kurt_paid,kurt).
amount_(kurt_paid,60000).
start_(kurt_paid,"2017-12-31").

% Test
:- tax(kurt,2017,10600).
:- halt.
